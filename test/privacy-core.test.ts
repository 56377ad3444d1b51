import { describe, expect, it } from 'vitest';
import {
  analyticDelta,
  analyticGaussianSigma,
  clipL2,
  gaussianSigma,
  plainComposition,
  PlainCompositionAccountant,
  privatize,
} from '../comm/privacy/index.ts';
import { ParameterError } from '../comm/param-error.ts';
import { Rng } from '../src/util/rng.ts';

describe('Gaussian mechanism calibration', () => {
  it('classic: sigma = clip sqrt(2 ln(1.25/delta)) / epsilon, for epsilon < 1 only', () => {
    expect(gaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 2 })).toBe((2 * Math.sqrt(2 * Math.log(1.25e5))) / 0.5);
    expect(gaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 1 })).toBeCloseTo(9.689610525210778, 12);
    expect(() => gaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 })).toThrow(/epsilon: expected epsilon < 1 for the classic Gaussian mechanism/);
  });

  it('analytic (Balle & Wang 2018) matches scipy brentq on the same condition and never exceeds classic', () => {
    // [epsilon, delta, sigma] from scipy.optimize.brentq on Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s) = delta.
    const ref: [number, number, number][] = [
      [0.1, 1e-3, 17.40439620303121],
      [0.5, 1e-5, 7.0318266755825],
      [1, 1e-5, 3.7306316348159374],
      [4, 1e-6, 1.1935185871579856],
      [20, 1e-5, 0.29004141803279576],
    ];
    for (const [eps, delta, want] of ref) {
      const s = gaussianSigma({ epsilon: eps, delta, sensitivity: 1, calibration: 'analytic' });
      expect(Math.abs(s / want - 1)).toBeLessThan(1e-9);
      expect(analyticDelta(s, eps)).toBeLessThanOrEqual(delta);
      if (eps < 1) expect(s).toBeLessThan(gaussianSigma({ epsilon: eps, delta, sensitivity: 1 }));
      expect(analyticGaussianSigma(eps, delta, 3)).toBeCloseTo(3 * s, 9);
    }
    // Large epsilon does not overflow (e^eps Phi(.) is formed in log space).
    const big = gaussianSigma({ epsilon: 800, delta: 1e-5, sensitivity: 1, calibration: 'analytic' });
    expect(big > 0 && big < 0.05).toBe(true);
  });

  it('analytic with a tiny epsilon: finite, at the epsilon -> 0 limit 1/(delta sqrt(2 pi)) (the classic start of the bracket overflowed at 1e-310)', () => {
    for (const delta of [1e-5, 1e-3, 0.1]) {
      const limit = 1 / (delta * Math.sqrt(2 * Math.PI));
      let last = 0;
      for (const eps of [1e-3, 1e-9, 1e-300, 1e-310, 5e-324]) {
        const s = analyticGaussianSigma(eps, delta, 1);
        expect(Number.isFinite(s)).toBe(true);
        expect(analyticDelta(s, eps)).toBeLessThanOrEqual(delta);
        // Monotone in epsilon and below the limit; at 1e-9 and smaller, the limit to 1e-4 relative
        // (2 Phi(a) - 1 = a sqrt(2/pi) (1 - a^2/6 + ...): a = delta sqrt(pi/2) is small).
        expect(s).toBeGreaterThanOrEqual(last);
        expect(s).toBeLessThanOrEqual(limit * (1 + 1e-12));
        if (eps <= 1e-9) expect(Math.abs(s / limit - 1)).toBeLessThan(1e-4 + delta * delta);
        last = s;
      }
    }
    expect(() => analyticGaussianSigma(1e-310, 1e-320, 1)).toThrow(ParameterError);
  });

  it('epsilon = infinity is no noise; epsilon <= 0, delta outside (0, 1), clip <= 0 are refused', () => {
    expect(gaussianSigma({ epsilon: Infinity, delta: 1e-5, sensitivity: 1 })).toBe(0);
    expect(gaussianSigma({ epsilon: Infinity, delta: 1e-5, sensitivity: 1, calibration: 'analytic' })).toBe(0);
    expect(() => gaussianSigma({ epsilon: 0, delta: 1e-5, sensitivity: 1 })).toThrow(/^epsilon: expected epsilon > 0, found 0$/);
    expect(() => gaussianSigma({ epsilon: -1, delta: 1e-5, sensitivity: 1 })).toThrow(ParameterError);
    expect(() => gaussianSigma({ epsilon: 0.5, delta: 1, sensitivity: 1 })).toThrow(/delta: expected 0 < delta < 1/);
    expect(() => gaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 0 })).toThrow(/clip: expected a finite clip norm/);
  });
});

describe('the per-message mechanism', () => {
  it('empirical std of 1e5 draws is within 5% of sigma; same seed, same noise', () => {
    const sigma = gaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 1 });
    const draw = (seed: number): Float32Array => {
      const x = new Float32Array(100_000);
      const rng = new Rng(seed, 'dp', 0, 0);
      privatize(x, 1, sigma, () => rng.normal());
      return x;
    };
    const x = draw(11);
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const std = Math.sqrt(s2 / x.length - mean * mean);
    expect(Math.abs(std / sigma - 1)).toBeLessThan(0.05);
    expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(x.length));
    expect(Buffer.from(draw(11).buffer).equals(Buffer.from(x.buffer))).toBe(true);
  });

  it('clipping scales to the clip norm and reports the norm; with sigma 0 the message is unchanged', () => {
    const x = Float32Array.from([3, 4]);
    expect(clipL2(x, 1)).toBe(5);
    expect(Array.from(x)).toEqual([0.6, 0.8].map(Math.fround));
    const y = Float32Array.from([0.3, 0.4]);
    const rng = new Rng(1);
    privatize(y, 1, 0, () => rng.normal());
    expect(Array.from(y)).toEqual([0.3, 0.4].map(Math.fround));
  });

  it('plain composition adds per-step budgets', () => {
    const acc = new PlainCompositionAccountant();
    for (let t = 0; t < 100; t++) acc.record(0.1, 1e-6);
    expect(acc.releases).toBe(100);
    expect(acc.epsilon).toBeCloseTo(10, 12);
    expect(acc.delta).toBeCloseTo(1e-4, 15);
    expect(plainComposition(0.1, 1e-6, 100)).toEqual({ epsilon: 0.1 * 100, delta: 1e-6 * 100 });
  });
});
