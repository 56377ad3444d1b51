/**
 * Real equiangular tight frame from a Paley conference matrix (Paley 1933; e.g. Strohmer &
 * Heath, "Grassmannian frames with applications to coding and communication", 2003).
 *
 * For a prime p = 1 (mod 4), the Jacobsthal matrix Q_ij = chi(j - i) (chi the Legendre symbol
 * mod p) is symmetric, and C = [[0, 1^T], [1, Q]] is a symmetric conference matrix of order
 * M = p + 1: zero diagonal, +-1 elsewhere, C^2 = p I. Then P = (I + C / sqrt(p)) / 2 is an
 * orthogonal projection of rank M / 2 (P^2 = P), and S = an orthonormal basis of its range
 * (M x N, N = (p + 1) / 2) satisfies S^T S = I and S S^T = P: its M rows form a tight frame in
 * R^N with squared norms 1/2 and inner products +-1 / (2 sqrt p), i.e. coherence 1/sqrt(p), the
 * Welch bound sqrt((M - N) / (N (M - 1))) for M vectors in R^N. Redundancy is exactly 2.
 *
 * Sizes: data with N rows needs p = 2N - 1 to be a prime = 1 (mod 4) (N = 3, 7, 9, 15, 19, 21,
 * 27, ...); other N are refused with the nearest valid ones. The basis is P's columns
 * orthonormalised by Gram-Schmidt (twice, for orthogonality to rounding; columns whose residual
 * is below 1e-8 are dependent and skipped): O(M N^2), any orthonormal basis of range(P) has
 * S S^T = P, so which one is irrelevant to the frame.
 */
import { ParameterError } from '../../../comm/param-error.ts';
import { DenseEncoding } from './encoding.ts';
import { isPrime, nextSatisfying, prevSatisfying } from './sizes.ts';

/** Legendre symbol (a / p) for an odd prime p: 0, 1 or -1. */
export function legendre(a: number, p: number): number {
  const r = ((a % p) + p) % p;
  if (r === 0) return 0;
  // Euler's criterion a^((p-1)/2) mod p by square-and-multiply (p < 2^26 keeps products exact).
  let e = (p - 1) / 2;
  let base = r;
  let acc = 1;
  while (e > 0) {
    if (e & 1) acc = (acc * base) % p;
    base = (base * base) % p;
    e = Math.floor(e / 2);
  }
  return acc === 1 ? 1 : -1;
}

export const paleyDataRowsOk = (n: number): boolean => isPrime(2 * n - 1) && (2 * n - 1) % 4 === 1;

/** The symmetric conference matrix of order p + 1, row-major. */
export function paleyConference(p: number): Float64Array {
  const m = p + 1;
  const c = new Float64Array(m * m);
  for (let j = 1; j < m; j++) {
    c[j] = 1;
    c[j * m] = 1;
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) c[(i + 1) * m + (j + 1)] = legendre(j - i, p);
  return c;
}

/** S (M x N) of the Paley ETF for data with n rows. */
export function paleyEtfEncoding(n: number): DenseEncoding {
  if (!(Number.isInteger(n) && n >= 2 && paleyDataRowsOk(n))) {
    const near = [...prevSatisfying(n, 2, paleyDataRowsOk).reverse(), ...nextSatisfying(n + 1, 2, paleyDataRowsOk)];
    throw new ParameterError('samples', `a data size N with 2N - 1 a prime = 1 (mod 4) for the Paley ETF, e.g. ${near.join(', ')}`, String(n));
  }
  const p = 2 * n - 1;
  const m = p + 1;
  const c = paleyConference(p);
  const proj = new Float64Array(m * m);
  const inv = 1 / Math.sqrt(p);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) proj[i * m + j] = 0.5 * ((i === j ? 1 : 0) + c[i * m + j]! * inv);
  // Basis vectors as rows of q (n x m), then transposed into S (m x n).
  const q = new Float64Array(n * m);
  const v = new Float64Array(m);
  let found = 0;
  for (let col = 0; col < m && found < n; col++) {
    for (let r = 0; r < m; r++) v[r] = proj[r * m + col]!;
    const norm0 = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < found; b++) {
        let dot = 0;
        for (let r = 0; r < m; r++) dot += q[b * m + r]! * v[r]!;
        for (let r = 0; r < m; r++) v[r] = v[r]! - dot * q[b * m + r]!;
      }
    }
    const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    if (norm <= 1e-8 * norm0) continue;
    for (let r = 0; r < m; r++) q[found * m + r] = v[r]! / norm;
    found++;
  }
  if (found !== n) throw new Error(`Paley ETF: range of rank ${found}, expected ${n}`);
  const s = new Float64Array(m * n);
  for (let r = 0; r < m; r++) for (let k = 0; k < n; k++) s[r * n + k] = q[k * m + r]!;
  return new DenseEncoding(`etf-paley(p=${p})`, m, n, s);
}
