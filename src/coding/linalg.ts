/**
 * Small dense float64 linear algebra for gradient coding: a square solve (Gaussian elimination
 * with partial pivoting) for the encoder and a rank-revealing least-squares solve (Householder QR
 * with column pivoting) for the decoder. Matrices are row-major `Float64Array`s with explicit
 * (rows, cols); sizes are tiny (n <= a few hundred), so clarity beats blocking.
 */

/**
 * Solve the square system M x = b (M is k x k, row-major) by Gaussian elimination with partial
 * pivoting. Returns null when M is singular to working precision (a pivot below
 * `1e-13 * max |M_ij|`). Does not modify its inputs.
 */
export function solveSquare(m: Float64Array, b: Float64Array, k: number): Float64Array | null {
  if (m.length !== k * k || b.length !== k) throw new Error(`solveSquare: expected a ${k}x${k} matrix and a length-${k} right-hand side`);
  const a = Float64Array.from(m);
  const x = Float64Array.from(b);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  if (scale === 0) return k === 0 ? x : null;
  const tiny = 1e-13 * scale;
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r * k + col]!) > Math.abs(a[piv * k + col]!)) piv = r;
    if (Math.abs(a[piv * k + col]!) <= tiny) return null;
    if (piv !== col) {
      for (let c = 0; c < k; c++) {
        const t = a[col * k + c]!;
        a[col * k + c] = a[piv * k + c]!;
        a[piv * k + c] = t;
      }
      const t = x[col]!;
      x[col] = x[piv]!;
      x[piv] = t;
    }
    const p = a[col * k + col]!;
    for (let r = col + 1; r < k; r++) {
      const f = a[r * k + col]! / p;
      if (f === 0) continue;
      for (let c = col; c < k; c++) a[r * k + c]! -= f * a[col * k + c]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let c = r + 1; c < k; c++) s -= a[r * k + c]! * x[c]!;
    x[r] = s / a[r * k + r]!;
  }
  return x;
}

export interface LeastSquaresResult {
  /** The solution (length cols). Columns found linearly dependent get coefficient 0 (basic solution). */
  x: Float64Array;
  /** Numerical rank found by the pivoted QR. */
  rank: number;
  /** max_i |(A x - b)_i|, recomputed from A, x and b in float64. */
  residual: number;
}

/**
 * Least squares min ||A x - b||_2 for A (rows x cols, row-major), by Householder QR with column
 * pivoting (rank-revealing). Columns whose remaining norm falls below `rankTol * (largest column
 * norm)` are treated as dependent and get x = 0, so the result is a basic solution when A is rank
 * deficient. The residual is recomputed from the original A and b.
 */
export function leastSquares(
  aIn: Float64Array,
  b: Float64Array,
  rows: number,
  cols: number,
  rankTol = 1e-10,
): LeastSquaresResult {
  if (aIn.length !== rows * cols || b.length !== rows) {
    throw new Error(`leastSquares: expected a ${rows}x${cols} matrix and a length-${rows} right-hand side`);
  }
  const a = Float64Array.from(aIn);
  const qtb = Float64Array.from(b);
  const perm = Int32Array.from({ length: cols }, (_, i) => i);
  const colNorm2 = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += a[r * cols + c]! ** 2;
    colNorm2[c] = s;
  }
  let maxNorm = 0;
  for (let c = 0; c < cols; c++) maxNorm = Math.max(maxNorm, Math.sqrt(colNorm2[c]!));
  const steps = Math.min(rows, cols);
  let rank = 0;
  for (let k = 0; k < steps; k++) {
    // Pivot: the remaining column with the largest norm below row k (recomputed exactly: tiny sizes).
    let best = k;
    let bestNorm = -1;
    for (let c = k; c < cols; c++) {
      let s = 0;
      for (let r = k; r < rows; r++) s += a[r * cols + c]! ** 2;
      if (s > bestNorm) {
        bestNorm = s;
        best = c;
      }
    }
    const norm = Math.sqrt(bestNorm);
    if (maxNorm === 0 || norm <= rankTol * maxNorm) break;
    if (best !== k) {
      for (let r = 0; r < rows; r++) {
        const t = a[r * cols + k]!;
        a[r * cols + k] = a[r * cols + best]!;
        a[r * cols + best] = t;
      }
      const t = perm[k]!;
      perm[k] = perm[best]!;
      perm[best] = t;
    }
    // Householder reflector v (stored in place below the diagonal) mapping column k to alpha e_k.
    const x0 = a[k * cols + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    const v0 = x0 - alpha;
    // v = (v0, a[k+1..rows-1][k]); H = I - 2 v v^T / (v^T v)
    let vtv = v0 * v0;
    for (let r = k + 1; r < rows; r++) vtv += a[r * cols + k]! ** 2;
    a[k * cols + k] = v0;
    if (vtv > 0) {
      for (let c = k + 1; c < cols; c++) {
        let dot = 0;
        for (let r = k; r < rows; r++) dot += a[r * cols + k]! * a[r * cols + c]!;
        const f = (2 * dot) / vtv;
        for (let r = k; r < rows; r++) a[r * cols + c]! -= f * a[r * cols + k]!;
      }
      let dot = 0;
      for (let r = k; r < rows; r++) dot += a[r * cols + k]! * qtb[r]!;
      const f = (2 * dot) / vtv;
      for (let r = k; r < rows; r++) qtb[r]! -= f * a[r * cols + k]!;
    }
    a[k * cols + k] = alpha; // R_kk (the reflector's vector is no longer needed)
    rank++;
  }
  // Back substitution on the leading rank x rank block of R; dependent columns get 0.
  const y = new Float64Array(cols);
  for (let r = rank - 1; r >= 0; r--) {
    let s = qtb[r]!;
    for (let c = r + 1; c < rank; c++) s -= a[r * cols + c]! * y[c]!;
    y[r] = s / a[r * cols + r]!;
  }
  const x = new Float64Array(cols);
  for (let k = 0; k < cols; k++) x[perm[k]!] = y[k]!;
  let residual = 0;
  for (let r = 0; r < rows; r++) {
    let s = -b[r]!;
    for (let c = 0; c < cols; c++) s += aIn[r * cols + c]! * x[c]!;
    residual = Math.max(residual, Math.abs(s));
  }
  return { x, rank, residual };
}
