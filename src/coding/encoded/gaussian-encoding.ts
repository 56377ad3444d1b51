/**
 * Gaussian encoding: S_ij ~ N(0, 1/M) i.i.d., so E[S^T S] = sum over M rows of (1/M) I = I.
 * M = round(beta N); any beta >= 1 works. Drawn from the seeded stream (seed, 'encoding', 'gaussian').
 */
import { Rng } from '../../util/rng.ts';
import { DenseEncoding } from './encoding.ts';
import { checkRedundancy } from './validate.ts';

export function gaussianEncoding(n: number, beta: number, seed: number): DenseEncoding {
  checkRedundancy(n, beta);
  const m = Math.round(beta * n);
  const rng = new Rng(seed, 'encoding', 'gaussian');
  const sd = 1 / Math.sqrt(m);
  const s = new Float64Array(m * n);
  for (let i = 0; i < s.length; i++) s[i] = sd * rng.normal();
  return new DenseEncoding(`gaussian(beta=${beta})`, m, n, s);
}
