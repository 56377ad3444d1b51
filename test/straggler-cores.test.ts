import { describe, expect, it } from 'vitest';
import { ArrivalOrderStats } from '../optimizers/backup-workers/arrival-order-stats.ts';
import { DynamicBackupController } from '../optimizers/backup-workers/dynamic-controller.ts';
import { chooseWaitCount, expectedGain, firstArrivals, gradientStats, noiseScale, validateBackup } from '../optimizers/backup-workers/dynamic-backup.ts';
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
  it('gain(k) = k / (k + B), B = s2 / G the noise scale, by hand', () => {
    expect(noiseScale({ gradNormSq: 0.5, variance: 1 })).toBe(2);
    expect(noiseScale({ gradNormSq: 0, variance: 1 })).toBe(Infinity);
    expect(expectedGain(2, 2)).toBe(0.5);
    expect(expectedGain(6, 2)).toBe(0.75);
    expect(expectedGain(3, Infinity)).toBe(3);
  });

  it('one persistently slow worker is left out; equal speeds wait for everyone; low noise takes the fastest', () => {
    // B = 2: rates gain/T = 1/3 / 1, 0.5 / 1.1 = 0.4545, 0.6 / 1.2 = 0.5, 0.667 / 10 = 0.067 -> k = 3.
    expect(chooseWaitCount(Float64Array.from([1, 1.1, 1.2, 10]), 2)).toBe(3);
    // Equal times: the largest gain, k = n.
    expect(chooseWaitCount(Float64Array.from([1, 1, 1, 1]), 2)).toBe(4);
    // B = 0.01: every k gains ~1, the first arrival is 4x sooner than the last -> k = 1.
    expect(chooseWaitCount(Float64Array.from([1, 2, 3, 4]), 0.01)).toBe(1);
    // Noise only (B infinite): gradient throughput k / T = 1, 1.82, 2.5, 0.4 -> k = 3.
    expect(chooseWaitCount(Float64Array.from([1, 1.1, 1.2, 10]), Infinity)).toBe(3);
    // No history: synchronous.
    expect(chooseWaitCount(new Float64Array(4), 2)).toBe(4);
  });

  it('gradient statistics by hand', () => {
    // g = (1, 0), (3, 0): mean (2, 0), ||mean||^2 = 4, variance (1 + 1)/(2 - 1) = 2, G = 4 - 2/2 = 3.
    expect(gradientStats([Float32Array.from([1, 0]), Float32Array.from([3, 0])])).toEqual({ gradNormSq: 3, variance: 2 });
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
    ctl.setNoiseScale(20);
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
