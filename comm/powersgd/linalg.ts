/**
 * The dense linear algebra PowerSGD needs, hand-written on Float32Array storage with float64
 * accumulation (JS numbers are doubles: sums live in locals or in a Float64Array scratch and are
 * rounded to float32 once, when stored). No function allocates.
 *
 * Layouts (every array is addressed by an explicit element offset, so callers never need views):
 *  - M:  n x m, row-major (the gradient tensor's memory viewed as (shape[0], prod(rest))).
 *  - Pt: r x n, i.e. P (n x r) stored column by column: column k of P is Pt[k*n .. k*n+n).
 *  - Qt: r x m, i.e. Q (m x r) stored column by column.
 * Column-major P and Q make every inner loop run over contiguous memory: P = M Q is r dot
 * products per row of M, Q = M^T P is r axpys per row of M, and P Q^T is r axpys per output row.
 */

/** Pt <- (M Q)^T:  P[i][k] = sum_j M[i][j] Q[j][k]. n*m*r multiply-adds. */
export function mulMQ(
  M: Float32Array,
  mOff: number,
  n: number,
  m: number,
  Qt: Float32Array,
  qOff: number,
  r: number,
  Pt: Float32Array,
  pOff: number,
): void {
  for (let i = 0; i < n; i++) {
    const row = mOff + i * m;
    let k = 0;
    // Four columns of Q per pass over the row: the row's loads are shared by four dot products.
    for (; k + 4 <= r; k += 4) {
      const q0 = qOff + k * m;
      const q1 = q0 + m;
      const q2 = q1 + m;
      const q3 = q2 + m;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < m; j++) {
        const x = M[row + j]!;
        s0 += x * Qt[q0 + j]!;
        s1 += x * Qt[q1 + j]!;
        s2 += x * Qt[q2 + j]!;
        s3 += x * Qt[q3 + j]!;
      }
      const p = pOff + k * n + i;
      Pt[p] = s0;
      Pt[p + n] = s1;
      Pt[p + 2 * n] = s2;
      Pt[p + 3 * n] = s3;
    }
    for (; k < r; k++) {
      const q = qOff + k * m;
      let s = 0;
      for (let j = 0; j < m; j++) s += M[row + j]! * Qt[q + j]!;
      Pt[pOff + k * n + i] = s;
    }
  }
}

/**
 * Qt <- (M^T P)^T:  Q[j][k] = sum_i M[i][j] P[i][k], accumulated row by row of M in `acc`
 * (float64, at least r*m long), then rounded into Qt. n*m*r multiply-adds.
 */
export function mulMtP(
  M: Float32Array,
  mOff: number,
  n: number,
  m: number,
  Pt: Float32Array,
  pOff: number,
  r: number,
  Qt: Float32Array,
  qOff: number,
  acc: Float64Array,
): void {
  const len = r * m;
  acc.fill(0, 0, len);
  for (let i = 0; i < n; i++) {
    const row = mOff + i * m;
    let k = 0;
    for (; k + 4 <= r; k += 4) {
      const p = pOff + k * n + i;
      const p0 = Pt[p]!;
      const p1 = Pt[p + n]!;
      const p2 = Pt[p + 2 * n]!;
      const p3 = Pt[p + 3 * n]!;
      const a0 = k * m;
      const a1 = a0 + m;
      const a2 = a1 + m;
      const a3 = a2 + m;
      for (let j = 0; j < m; j++) {
        const x = M[row + j]!;
        acc[a0 + j]! += p0 * x;
        acc[a1 + j]! += p1 * x;
        acc[a2 + j]! += p2 * x;
        acc[a3 + j]! += p3 * x;
      }
    }
    for (; k < r; k++) {
      const pk = Pt[pOff + k * n + i]!;
      const a = k * m;
      for (let j = 0; j < m; j++) acc[a + j]! += pk * M[row + j]!;
    }
  }
  for (let t = 0; t < len; t++) Qt[qOff + t] = acc[t]!;
}

/**
 * out <- P Q^T (n x m, row-major at outOff), each element a float64 sum of r products rounded
 * once. If `residual` is given it holds the matrix that was compressed (same layout, at resOff)
 * and becomes residual - P Q^T, subtracting exactly the float32 values written to `out` (so that
 * out + residual reproduces the compressed matrix up to one rounding). `row` is float64 scratch
 * of at least m elements.
 *
 * Per output row: all but the last (1..4) columns of P/Q are accumulated four at a time into
 * `row`; the last block is fused with the rounding, the store and the residual update.
 */
export function mulPQt(
  Pt: Float32Array,
  pOff: number,
  Qt: Float32Array,
  qOff: number,
  n: number,
  m: number,
  r: number,
  out: Float32Array,
  outOff: number,
  residual: Float32Array | null,
  resOff: number,
  row: Float64Array,
): void {
  if (r < 1) return;
  const last = r - (((r - 1) % 4) + 1);
  const b = r - last;
  const hasRow = last > 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < last; k += 4) {
      const p = pOff + k * n + i;
      const p0 = Pt[p]!;
      const p1 = Pt[p + n]!;
      const p2 = Pt[p + 2 * n]!;
      const p3 = Pt[p + 3 * n]!;
      const q0 = qOff + k * m;
      const q1 = q0 + m;
      const q2 = q1 + m;
      const q3 = q2 + m;
      if (k === 0) {
        for (let j = 0; j < m; j++) row[j] = p0 * Qt[q0 + j]! + p1 * Qt[q1 + j]! + p2 * Qt[q2 + j]! + p3 * Qt[q3 + j]!;
      } else {
        for (let j = 0; j < m; j++) row[j]! += p0 * Qt[q0 + j]! + p1 * Qt[q1 + j]! + p2 * Qt[q2 + j]! + p3 * Qt[q3 + j]!;
      }
    }
    const p = pOff + last * n + i;
    const p0 = Pt[p]!;
    const p1 = b > 1 ? Pt[p + n]! : 0;
    const p2 = b > 2 ? Pt[p + 2 * n]! : 0;
    const p3 = b > 3 ? Pt[p + 3 * n]! : 0;
    const q0 = qOff + last * m;
    const q1 = q0 + m;
    const q2 = q1 + m;
    const q3 = q2 + m;
    const o = outOff + i * m;
    const e = resOff + i * m;
    for (let j = 0; j < m; j++) {
      let s = hasRow ? row[j]! : 0;
      s += p0 * Qt[q0 + j]!;
      if (b > 1) {
        s += p1 * Qt[q1 + j]!;
        if (b > 2) {
          s += p2 * Qt[q2 + j]!;
          if (b > 3) s += p3 * Qt[q3 + j]!;
        }
      }
      const d = Math.fround(s);
      out[o + j] = d;
      if (residual !== null) residual[e + j] = residual[e + j]! - d;
    }
  }
}

/**
 * A column whose norm after removing its projections on the previous columns is at most this
 * fraction of its norm before is treated as linearly dependent (float32 data carries ~1e-7 of
 * relative noise, so such a column's direction is rounding noise) and replaced; see below.
 */
export const DEPENDENT_COLUMN_TOLERANCE = 1e-6;

/**
 * Orthonormalise the r columns of P (stored as Pt, r x n at pOff) in place by modified
 * Gram-Schmidt in float64 (`scratch`: at least r*n elements), then round back to float32.
 * Requires r <= n.
 *
 * Guard for zero or (numerically) dependent columns: instead of dividing by ~0 (NaN/Inf, which
 * would also kill the column for every later warm-started step: Q = M^T 0 = 0), the column is
 * replaced by the standard basis vector e_j least covered by the previous columns (largest
 * 1 - sum_l P[j][l]^2, first such j on ties), orthogonalised against them (twice, for accuracy)
 * and normalised. This is deterministic, so every worker, holding the same all-reduced P, picks
 * the same vector; for a zero gradient the decompressed result stays exactly 0 because
 * Q = M^T P = 0. Non-finite input is not masked: NaN/Inf propagate to the output.
 */
export function orthonormalizeColumns(Pt: Float32Array, pOff: number, n: number, r: number, scratch: Float64Array): void {
  if (r > n) throw new Error(`orthonormalizeColumns: ${r} columns of length ${n} cannot be orthonormal`);
  const len = r * n;
  for (let t = 0; t < len; t++) scratch[t] = Pt[pOff + t]!;
  for (let k = 0; k < r; k++) {
    const c = k * n;
    let norm0 = 0;
    for (let i = 0; i < n; i++) norm0 += scratch[c + i]! * scratch[c + i]!;
    norm0 = Math.sqrt(norm0);
    projectOut(scratch, c, n, k);
    let norm = 0;
    for (let i = 0; i < n; i++) norm += scratch[c + i]! * scratch[c + i]!;
    norm = Math.sqrt(norm);
    if (norm0 === 0 || norm <= DEPENDENT_COLUMN_TOLERANCE * norm0) {
      let best = 0;
      let bestCover = Infinity;
      for (let j = 0; j < n; j++) {
        let cover = 0;
        for (let l = 0; l < k; l++) cover += scratch[l * n + j]! * scratch[l * n + j]!;
        if (cover < bestCover) {
          bestCover = cover;
          best = j;
        }
      }
      for (let i = 0; i < n; i++) scratch[c + i] = i === best ? 1 : 0;
      projectOut(scratch, c, n, k);
      projectOut(scratch, c, n, k);
      norm = 0;
      for (let i = 0; i < n; i++) norm += scratch[c + i]! * scratch[c + i]!;
      norm = Math.sqrt(norm);
    }
    const inv = 1 / norm;
    for (let i = 0; i < n; i++) scratch[c + i]! *= inv;
  }
  for (let t = 0; t < len; t++) Pt[pOff + t] = scratch[t]!;
}

/** Column k (at c) minus its projections on columns 0..k-1, one at a time (modified Gram-Schmidt). */
function projectOut(s: Float64Array, c: number, n: number, k: number): void {
  for (let l = 0; l < k; l++) {
    const b = l * n;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += s[b + i]! * s[c + i]!;
    for (let i = 0; i < n; i++) s[c + i]! -= dot * s[b + i]!;
  }
}
