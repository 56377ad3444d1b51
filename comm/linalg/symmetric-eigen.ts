/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method (Jacobi 1846;
 * Golub & Van Loan, "Matrix Computations", section 8.5): sweep over all off-diagonal pairs (p, q),
 * zeroing each with a plane rotation A <- J^T A J, until the off-diagonal mass is below
 * (eps * ||A||_F)^2. Accurate to a few ulps of ||A|| for every eigenvalue, small ones included,
 * which is what spectral gaps of mixing matrices need. O(n^3) per sweep, usually 6-10 sweeps:
 * meant for n up to a few hundred.
 */

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Unit eigenvectors as columns of a row-major n x n matrix (column j goes with values[j]); null if not asked for. */
  vectors: Float64Array | null;
}

/** a: row-major n x n, read only (symmetry is assumed: only the upper triangle's pairs are rotated, both halves updated). */
export function symmetricEigen(a: ArrayLike<number>, n: number, withVectors = false, maxSweeps = 100): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: ${a.length} entries for a ${n} x ${n} matrix`);
  const A = Float64Array.from(a);
  const V = withVectors ? new Float64Array(n * n) : null;
  if (V) for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let frob = 0;
  for (let i = 0; i < n * n; i++) frob += A[i]! * A[i]!;
  const stop = (2.2e-16 * 2.2e-16) * frob;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! * A[p * n + q]!;
    if (off <= stop || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        // tan of the smaller rotation angle; 1/(2 theta) when theta^2 would overflow.
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        if (V) {
          for (let k = 0; k < n; k++) {
            const vkp = V[k * n + p]!;
            const vkq = V[k * n + q]!;
            V[k * n + p] = c * vkp - s * vkq;
            V[k * n + q] = s * vkp + c * vkq;
          }
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j]! - A[i * n + i]! || i - j);
  const values = Float64Array.from(order, (i) => A[i * n + i]!);
  let vectors: Float64Array | null = null;
  if (V) {
    vectors = new Float64Array(n * n);
    for (let c = 0; c < n; c++) {
      const src = order[c]!;
      for (let r = 0; r < n; r++) vectors[r * n + c] = V[r * n + src]!;
    }
  }
  return { values, vectors };
}
