import { describe, expect, it } from 'vitest';
import { erfc, normalCdf, normalQuantile } from '../comm/stats/normal.ts';

// Reference values from scipy.special.erfc / scipy.stats.norm.ppf (scipy 1.17).
const ERFC: [number, number][] = [
  [0, 1],
  [0.3, 0.6713732405408726],
  [0.5, 0.4795001221869535],
  [1, 0.15729920705028516],
  [1.9999, 0.00467980209297061],
  [2, 0.004677734981047266],
  [2.5, 0.00040695201744495886],
  [5, 1.5374597944280347e-12],
  [10, 2.0884875837625446e-45],
  [20, 5.395865611607901e-176],
  [-1, 1.8427007929497148],
  [-3, 1.9999779095030015],
];
const PPF: [number, number][] = [
  [1e-10, -6.361340902404056],
  [0.01, -2.3263478740408408],
  [0.3, -0.5244005127080409],
  [0.5, 0],
  [0.7, 0.5244005127080407],
  [0.975, 1.959963984540054],
];

describe('normal distribution functions', () => {
  it('erfc matches scipy to 1e-13 relative, including far tails', () => {
    for (const [x, want] of ERFC) expect(Math.abs(erfc(x) - want)).toBeLessThanOrEqual(1e-13 * want);
  });
  it('the quantile inverts the cdf and matches scipy', () => {
    for (const [p, want] of PPF) {
      expect(Math.abs(normalQuantile(p) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    }
  });
});
