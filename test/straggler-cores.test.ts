import { describe, expect, it } from 'vitest';
import { ArrivalOrderStats } from '../optimizers/backup-workers/arrival-order-stats.ts';
import { DynamicBackupController } from '../optimizers/backup-workers/dynamic-controller.ts';
import { chooseWaitCount, expectedGain, firstArrivals, gradientStats, secantSmoothness, validateBackup } from '../optimizers/backup-workers/dynamic-backup.ts';
import { StalenessTracker, stalenessLrScale } from '../optimizers/async-sgd/staleness.ts';
import { Rng } from '../src/util/rng.ts';

describe('arrival order statistics', () => {
  it('mean of the k-th arrival over a sliding window; censored steps use the end time', () => {
    const s = new ArrivalOrderStats(3, 2);
    const out = new Float64Array(3);
    s.meanKth(out);
    expect(Array.from(out)).toEqual([0, 0, 0]);
    s.record([3, 1, 2]);
    s.record([6, 4, 5]);
    s.meanKth(out);
    expect(Array.from(out)).toEqual([2.5, 3.5, 4.5]);
    s.record([0.5, 0.25], 2); // third never seen; the step ended at 2
    s.meanKth(out); // window now {[4,5,6], [0.25,0.5,2]}
    expect(Array.from(out)).toEqual([2.125, 2.75, 4]);
    expect(() => s.record([1, 2])).toThrow(/without a censoring time/);
  });
});

describe('dynamic backup workers', () => {
  const e = { lr: 0.1, smoothness: 1, gradNormSq: 1, variance: 20 };

  it('gain(k) = lr G - (L lr^2 / 2)(G + s2 / k), by hand', () => {
    expect(expectedGain(2, e)).toBeCloseTo(0.1 - 0.005 * 11, 15);
    expect(expectedGain(1, e)).toBeLessThan(0);
  });

  it('one persistently slow worker is left out; equal speeds wait for everyone', () => {
    // rates gain/T: k=1 negative gain; k=2 0.045/1.1 = 0.0409; k=3 0.06167/1.2 = 0.0514; k=4 0.07/10 = 0.007.
    expect(chooseWaitCount(Float64Array.from([1, 1.1, 1.2, 10]), e)).toBe(3);
    // Equal times: the largest gain, k = n (ties would go to the larger k too).
    expect(chooseWaitCount(Float64Array.from([1, 1, 1, 1]), e)).toBe(4);
    // Low noise: one gradient is almost as good as four, and the first arrives much sooner.
    expect(chooseWaitCount(Float64Array.from([1, 2, 3, 4]), { ...e, variance: 0.1 })).toBe(1);
    // No history, or no k with positive gain: synchronous.
    expect(chooseWaitCount(new Float64Array(4), e)).toBe(4);
    expect(chooseWaitCount(Float64Array.from([1, 1.1, 1.2, 10]), { ...e, lr: 10 })).toBe(4);
  });

  it('gradient statistics and the secant smoothness estimate, by hand', () => {
    // g = (1, 0), (3, 0): mean (2, 0), ||mean||^2 = 4, variance (1 + 1)/(2 - 1) = 2, G = 4 - 2/2 = 3.
    expect(gradientStats([Float32Array.from([1, 0]), Float32Array.from([3, 0])])).toEqual({ gradNormSq: 3, variance: 2 });
    // f = x^2 (per coordinate): g = 2x, L = 2.
    expect(secantSmoothness(Float32Array.from([2, 4]), Float32Array.from([4, 2]), Float32Array.from([1, 2]), Float32Array.from([2, 1]))).toBe(2);
    expect(secantSmoothness(Float32Array.from([1]), Float32Array.from([2]), Float32Array.from([1]), Float32Array.from([1]))).toBeNull();
  });

  it('the first k arrivals, ties by worker index', () => {
    const order = new Int32Array(5);
    expect(Array.from(firstArrivals(Float64Array.from([3, 1, 2, 1, 9]), 3, order))).toEqual([1, 3, 2]);
    expect(Array.from(firstArrivals(Float64Array.from([2, 2, 2, 2, 2]), 4, order))).toEqual([0, 1, 2, 3]);
    expect(() => firstArrivals(Float64Array.from([1, 2, 3, 4, 5]), 0, order)).toThrow(/k = 0 of 5/);
  });

  it('b >= n is refused with a located message', () => {
    expect(() => validateBackup(4, 4)).toThrow(/^backup: expected an integer 0 <= b < n = 4 \(or dynamic\), found 4$/);
    expect(() => validateBackup(0, 4)).not.toThrow();
  });
});

describe('async SGD staleness bookkeeping', () => {
  it('histogram, mean and max by hand', () => {
    const t = new StalenessTracker();
    expect(t.toJSON()).toEqual({ count: 0, mean: 0, max: -1, histogram: [] });
    for (const [server, computed] of [[0, 0], [1, 0], [5, 2], [40, 10], [41, 40]] as const) t.record(server, computed);
    const h = new Array(31).fill(0);
    h[0] = 1;
    h[1] = 2;
    h[3] = 1;
    h[30] = 1;
    expect(t.toJSON()).toEqual({ count: 5, mean: 35 / 5, max: 30, histogram: h });
    expect(() => t.record(3, 4)).toThrow(/computed on version 4 applied at version 3/);
  });

  it('n equal-speed workers served round-robin: staleness n - 1 after warm-up', () => {
    for (const n of [1, 3, 8]) {
      const t = new StalenessTracker();
      const pulled = new Array(n).fill(0); // every worker pulls version 0 at the start
      let version = 0;
      for (let step = 0; step < 10 * n; step++) {
        const w = step % n;
        const s = t.record(version, pulled[w]);
        if (step >= n) expect(s).toBe(n - 1);
        version++;
        pulled[w] = version;
      }
      expect(t.max).toBe(n - 1);
    }
    expect(stalenessLrScale('scale-lr', 3)).toBe(0.25);
    expect(stalenessLrScale('ignore', 3)).toBe(1);
  });
});

describe('dynamic backup controller (simulated arrivals)', () => {
  /** Run `steps` steps; worker w's offset is base[w] + exponential jitter; returns the k chosen per step. */
  function simulate(base: number[], jitterMean: number, steps: number): number[] {
    const n = base.length;
    const ctl = new DynamicBackupController(n, 10);
    ctl.setEstimates({ lr: 0.1, smoothness: 1, gradNormSq: 1, variance: 20 });
    const rng = new Rng(8, 'arrivals');
    const ks: number[] = [];
    const arrivals = new Float64Array(n);
    const order = new Int32Array(n);
    for (let t = 0; t < steps; t++) {
      for (let w = 0; w < n; w++) arrivals[w] = base[w]! + rng.exponential(jitterMean);
      const k = ctl.waitCount();
      ks.push(k);
      const used = firstArrivals(arrivals, k, order);
      const offsets = Array.from(used, (w) => arrivals[w]!);
      ctl.observe(offsets, Math.max(...offsets));
    }
    return ks;
  }

  it('waits for everyone while learning, then leaves a persistently slow worker out', () => {
    const ks = simulate([1, 1, 1, 1, 1, 1, 1, 10], 0.1, 60);
    expect(ks.slice(0, 10)).toEqual(new Array(10).fill(8));
    // After the first censored steps the slow worker is excluded (k <= 7) on most steps; probing k = 8 is allowed.
    const late = ks.slice(20);
    expect(late.filter((k) => k <= 7).length).toBeGreaterThan(0.8 * late.length);
  });

  it('equal, steady speeds keep b = 0', () => {
    expect(simulate([1, 1, 1, 1, 1, 1, 1, 1], 0.001, 40).every((k) => k === 8)).toBe(true);
  });
});
