/** Spectral quantities of a symmetric mixing matrix: they set gossip's consensus rate. */
import { ParameterError } from '../param-error.ts';
import { symmetricEigen } from '../linalg/symmetric-eigen.ts';
import type { MixingMatrix } from './mixing-matrix.ts';

/** Eigenvalues, descending (lambda_1 = 1 for a doubly stochastic W). */
export function mixingEigenvalues(m: MixingMatrix): Float64Array {
  return symmetricEigen(m.w, m.n).values;
}

/**
 * lambda = max(|lambda_2|, |lambda_n|): the second-largest eigenvalue modulus. Pure averaging
 * x <- W x shrinks the deviation from the mean by at most lambda per step, and by exactly lambda
 * asymptotically for a generic start, so the consensus distance decays like lambda^(2t).
 * 0 for n = 1.
 */
export function secondLargestEigenvalueModulus(m: MixingMatrix): number {
  if (m.n === 1) return 0;
  const v = mixingEigenvalues(m);
  return Math.max(Math.abs(v[1]!), Math.abs(v[m.n - 1]!));
}

/** Refuse a W that cannot reach consensus (lambda >= 1 - tol: disconnected, or bipartite-like oscillation). */
export function requireContraction(m: MixingMatrix, tol = 1e-9, key = 'mixing'): number {
  const lambda = secondLargestEigenvalueModulus(m);
  if (!(lambda < 1 - tol)) {
    throw new ParameterError(key, 'a mixing matrix whose second-largest eigenvalue modulus is below 1 (gossip must contract)', `modulus ${lambda}`);
  }
  return lambda;
}
