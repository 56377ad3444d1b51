/**
 * The gossip step x_i <- sum_j W_ij x_j, on one worker's row (what a worker does with its
 * neighbours' vectors) or on all n vectors stacked row-major in one Float32Array (what a test or
 * a simulation of all workers does). Both use the same kernel: per coordinate a float64 sum over
 * the row's non-zero columns in ascending order, rounded once, so the stacked and per-worker forms
 * agree bit for bit. No allocation.
 */
import type { MixingMatrix } from './mixing-matrix.ts';

/**
 * out_k = sum_c weights[c] * vectors[c][k]. `vectors` in the order of `weights` (ascending worker
 * index, the node itself included). out may alias none of the vectors.
 */
export function mixRow(out: Float32Array, weights: Float64Array, vectors: readonly Float32Array[]): void {
  const m = weights.length;
  if (vectors.length !== m) throw new Error(`mixRow: ${m} weights, ${vectors.length} vectors`);
  for (let k = 0; k < out.length; k++) {
    let s = 0;
    for (let c = 0; c < m; c++) s += weights[c]! * vectors[c]![k]!;
    out[k] = s;
  }
}

/** out (n x d) <- W x (n x d), both row-major; out must not alias x. */
export function gossipStep(m: MixingMatrix, x: Float32Array, d: number, out: Float32Array): void {
  const n = m.n;
  if (x.length !== n * d || out.length !== n * d) throw new Error(`gossipStep: expected ${n} x ${d} = ${n * d} entries`);
  for (let i = 0; i < n; i++) {
    const idx = m.rowIndex[i]!;
    const wt = m.rowWeight[i]!;
    const o = i * d;
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let c = 0; c < idx.length; c++) s += wt[c]! * x[idx[c]! * d + k]!;
      out[o + k] = s;
    }
  }
}

/**
 * Consensus distance (1/n) sum_i ||x_i - x_bar||^2 of n stacked vectors (n x d row-major),
 * in float64, without allocating (x_bar is formed per coordinate).
 */
export function consensusDistance(x: Float32Array, n: number, d: number): number {
  let total = 0;
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + k]!;
    const mean = s / n;
    for (let i = 0; i < n; i++) {
      const t = x[i * d + k]! - mean;
      total += t * t;
    }
  }
  return total / n;
}

/** The same for separate vectors (one per worker). */
export function consensusDistanceOf(xs: readonly Float32Array[]): number {
  const n = xs.length;
  const d = xs[0]!.length;
  let total = 0;
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[i]![k]!;
    const mean = s / n;
    for (let i = 0; i < n; i++) {
      const t = xs[i]![k]! - mean;
      total += t * t;
    }
  }
  return total / n;
}
