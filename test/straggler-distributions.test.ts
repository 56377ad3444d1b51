// Straggler delay distributions: seeded Monte Carlo against the closed forms (shifted-exponential
// mean and quantiles, Pareto median x_m 2^(1/alpha) and tail, bimodal fraction p), the persistent
// slow-node arithmetic, purity (a (seed, worker, step) delay does not depend on call order), and
// validation. Tolerances are ~4-5 standard errors of the estimator at the sample size used, so a
// wrong parameterisation (a rate for a mean, 1/alpha for alpha, 1-p for p) fails.
import { describe, expect, it } from 'vitest';
import {
  delayFor,
  meanDelay,
  quantileDelay,
  validateStragglerSpec,
  type StragglerSpec,
} from '../src/sim/straggler-distributions.ts';

const N = 40_000;
const SEED = 2024;

/** N delays for `spec` over (worker, step) = (k % 8, floor(k / 8)). */
function sample(spec: StragglerSpec, seed = SEED, n = N): Float64Array {
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = delayFor(spec, seed, k % 8, Math.floor(k / 8));
  return out;
}

function mean(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

function quantile(x: Float64Array, q: number): number {
  const sorted = Float64Array.from(x).sort();
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('shifted exponential', () => {
  const spec: StragglerSpec = { kind: 'shifted-exponential', shift: 0.05, mean: 0.2 };

  it('mean = shift + mean, quantiles shift - mean ln(1-q), never below the shift', () => {
    const x = sample(spec);
    expect(meanDelay(spec)).toBeCloseTo(0.25, 15);
    // sd of the sample mean: mean / sqrt(N) = 0.001
    expect(Math.abs(mean(x) - 0.25)).toBeLessThan(0.005);
    for (const q of [0.5, 0.9, 0.99]) {
      const theory = quantileDelay(spec, q);
      expect(theory).toBeCloseTo(0.05 - 0.2 * Math.log(1 - q), 12);
      expect(Math.abs(quantile(x, q) - theory) / theory).toBeLessThan(q === 0.99 ? 0.06 : 0.03);
    }
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0.05);
  });

  it('mean 0 gives the constant shift; `workers` restricts who is delayed', () => {
    expect(delayFor({ kind: 'shifted-exponential', shift: 0.3, mean: 0 }, 1, 2, 3)).toBe(0.3);
    const only = { kind: 'shifted-exponential', shift: 1, mean: 1, workers: [2] } as const;
    expect(delayFor(only, 1, 0, 5)).toBe(0);
    expect(delayFor(only, 1, 2, 5)).toBeGreaterThanOrEqual(1);
  });
});

describe('Pareto', () => {
  for (const shape of [1.5, 3]) {
    it(`shape ${shape}: median x_m 2^(1/alpha), tail P(X > x) = (x_m/x)^alpha, support >= x_m`, () => {
      const spec: StragglerSpec = { kind: 'pareto', scale: 0.1, shape };
      const x = sample(spec);
      const median = 0.1 * 2 ** (1 / shape);
      expect(quantileDelay(spec, 0.5)).toBeCloseTo(median, 14);
      // relative sd of the sample median = 1 / (alpha sqrt N) <= 0.0034
      expect(Math.abs(quantile(x, 0.5) - median) / median).toBeLessThan(0.015);
      const q90 = quantileDelay(spec, 0.9);
      expect(Math.abs(quantile(x, 0.9) - q90) / q90).toBeLessThan(0.04);
      // tail fraction beyond 4 x_m: (1/4)^alpha, binomial sd <= 0.0025
      const tail = x.filter((v) => v > 0.4).length / x.length;
      expect(Math.abs(tail - 0.25 ** shape)).toBeLessThan(0.012);
      expect(Math.min(...x)).toBeGreaterThanOrEqual(0.1);
      if (shape > 2) expect(Math.abs(mean(x) - meanDelay(spec)) / meanDelay(spec)).toBeLessThan(0.02);
    });
  }

  it('is heavy tailed: the mean is infinite for shape <= 1', () => {
    expect(meanDelay({ kind: 'pareto', scale: 1, shape: 1 })).toBe(Infinity);
  });
});

describe('bimodal', () => {
  it('a fraction p of worker-steps is slow, the rest fast', () => {
    const spec: StragglerSpec = { kind: 'bimodal', p: 0.1, slowDelay: 2, fastDelay: 0.01 };
    const x = sample(spec);
    expect(x.every((v) => v === 2 || v === 0.01)).toBe(true);
    const slow = x.filter((v) => v === 2).length / x.length;
    // binomial sd sqrt(0.09 / N) = 0.0015
    expect(Math.abs(slow - 0.1)).toBeLessThan(0.0075);
    expect(Math.abs(mean(x) - meanDelay(spec))).toBeLessThan(0.02);
    expect(quantileDelay(spec, 0.85)).toBe(0.01);
    expect(quantileDelay(spec, 0.95)).toBe(2);
    // slowness is independent across workers at one step and across steps for one worker
    const perWorker = Array.from({ length: 8 }, (_, w) => {
      let c = 0;
      for (let t = 0; t < 2000; t++) if (delayFor(spec, 9, w, t) === 2) c++;
      return c / 2000;
    });
    for (const f of perWorker) expect(Math.abs(f - 0.1)).toBeLessThan(0.035);
  });

  it('p = 0 and p = 1 are deterministic', () => {
    expect(sample({ kind: 'bimodal', p: 0, slowDelay: 5, fastDelay: 1 }, 1, 500).every((v) => v === 1)).toBe(true);
    expect(sample({ kind: 'bimodal', p: 1, slowDelay: 5, fastDelay: 1 }, 1, 500).every((v) => v === 5)).toBe(true);
  });
});

describe('persistently slow nodes', () => {
  it('slow workers take factor x the step (compute + base delay); the others only the base delay', () => {
    const spec: StragglerSpec = { kind: 'persistent', workers: [1, 3], factor: 4, computeSec: 0.5 };
    for (let step = 0; step < 20; step++) {
      expect(delayFor(spec, 7, 0, step)).toBe(0);
      expect(delayFor(spec, 7, 1, step)).toBe(1.5); // 4 x 0.5 - 0.5
      expect(delayFor(spec, 7, 3, step)).toBe(1.5);
    }
    const base: StragglerSpec = { kind: 'shifted-exponential', shift: 0.1, mean: 0.3 };
    const withBase: StragglerSpec = { kind: 'persistent', workers: [1], factor: 3, computeSec: 0.5, base };
    for (let step = 0; step < 20; step++) {
      const b0 = delayFor(base, 7, 0, step);
      const b1 = delayFor(base, 7, 1, step);
      expect(delayFor(withBase, 7, 0, step)).toBe(b0);
      expect(delayFor(withBase, 7, 1, step)).toBeCloseTo(3 * (0.5 + b1) - 0.5, 14);
    }
  });
});

describe('purity: a delay depends only on (spec, seed, worker, step)', () => {
  const specs: StragglerSpec[] = [
    { kind: 'shifted-exponential', shift: 0.01, mean: 0.1 },
    { kind: 'pareto', scale: 0.05, shape: 1.2 },
    { kind: 'bimodal', p: 0.3, slowDelay: 1, fastDelay: 0 },
    { kind: 'persistent', workers: [2], factor: 2, computeSec: 1, base: { kind: 'pareto', scale: 0.05, shape: 2 } },
  ];

  for (const spec of specs) {
    it(`${spec.kind}: same values in forward, reversed and interleaved call order`, () => {
      const keys: [number, number][] = [];
      for (let w = 0; w < 6; w++) for (let t = 0; t < 50; t++) keys.push([w, t]);
      const forward = keys.map(([w, t]) => delayFor(spec, 31, w, t));
      const reversed = [...keys].reverse().map(([w, t]) => delayFor(spec, 31, w, t)).reverse();
      const interleaved = keys.map(([w, t]) => {
        delayFor(spec, 99, w + 1, t + 7); // unrelated draws in between change nothing
        return delayFor(spec, 31, w, t);
      });
      expect(reversed).toEqual(forward);
      expect(interleaved).toEqual(forward);
      // ... and the seed, the worker and the step all matter
      if (spec.kind !== 'bimodal' && spec.kind !== 'persistent') {
        expect(new Set(forward).size).toBe(forward.length);
        expect(keys.map(([w, t]) => delayFor(spec, 32, w, t))).not.toEqual(forward);
      }
    });
  }

  it("'none' is always 0", () => {
    expect(delayFor({ kind: 'none' }, 1, 2, 3)).toBe(0);
  });
});

describe('validation', () => {
  it('names the bad field and what was expected', () => {
    expect(() => delayFor({ kind: 'pareto', scale: 0, shape: 2 }, 1, 0, 0)).toThrow('stragglers.scale: expected seconds > 0 (x_m), got 0');
    expect(() => delayFor({ kind: 'pareto', scale: 1, shape: -1 }, 1, 0, 0)).toThrow(/stragglers.shape: expected a number > 0/);
    expect(() => delayFor({ kind: 'bimodal', p: 1.5, slowDelay: 1, fastDelay: 0 }, 1, 0, 0)).toThrow(
      /stragglers.p: expected a probability in \[0, 1\], got 1.5/,
    );
    expect(() => delayFor({ kind: 'shifted-exponential', shift: -1, mean: 1 }, 1, 0, 0)).toThrow(/stragglers.shift/);
    expect(() => delayFor({ kind: 'shifted-exponential', shift: 0, mean: Number.NaN }, 1, 0, 0)).toThrow(/stragglers.mean/);
    expect(() => delayFor({ kind: 'persistent', workers: [0], factor: 0.5, computeSec: 1 }, 1, 0, 0)).toThrow(
      /stragglers.factor: expected a slowdown factor >= 1/,
    );
    expect(() =>
      validateStragglerSpec({ kind: 'persistent', workers: [0], factor: 2, computeSec: 1, base: { kind: 'pareto', scale: -1, shape: 1 } }),
    ).toThrow(/stragglers.base.scale/);
    expect(() => validateStragglerSpec({ kind: 'persistent', workers: [-1], factor: 2, computeSec: 1 })).toThrow(/stragglers.workers/);
    expect(() => validateStragglerSpec({ kind: 'lognormal' } as unknown as StragglerSpec)).toThrow(/stragglers.kind: expected one of/);
  });
});
