/**
 * What encoding a run's data costs before anything is built: the float64 arrays a process holds
 * while encoding (every process encodes the whole data set once) and the multiply-adds it does.
 * The config rules refuse a config whose encoding would not fit the run's memory budget or would
 * take longer than ENCODE_MAX_MULTIPLY_ADDS, so `beta: 1e12` or an ETF over a million rows is a
 * located one-line error, not a RangeError from a typed-array constructor or hours of a
 * synchronous loop that ignores SIGTERM. Estimates follow encoded-data.ts, model-parallel.ts and
 * src/coding/encoded (a deliberate over-estimate where a buffer is transient).
 */
import type { EncodedOptimizationConfig } from './config.ts';

/**
 * Multiply-adds one process may spend encoding (about 10 s of one core in these loops): the
 * encoding is a one-off preprocessing step, so anything larger is a typo in beta or data.samples.
 */
export const ENCODE_MAX_MULTIPLY_ADDS = 1e10;

export interface EncodingCost {
  /** Encoded rows M (of the data, or of the parameters per class for the model-parallel path). */
  rows: number;
  /** Peak float64 bytes of the encoding in one process. */
  bytes: number;
  multiplyAdds: number;
}

/**
 * Least squares: `size` = data rows N, `width` = features + 1 (X with its bias column).
 * Model parallel (a linear classifier): `size` = features + 1 parameters per class,
 * `samples` = data rows (every worker holds [X 1] S_b^T, N x m_b).
 * `rows` = encodedRows(cfg, size, workers), already checked for the encoding's size rules.
 */
export function encodingCost(cfg: EncodedOptimizationConfig, o: { size: number; rows: number; width: number; samples: number; modelParallel: boolean }): EncodingCost {
  const { size: n, rows: m } = o;
  const paley = cfg.encoding === 'etf' && (cfg.construction ?? 'paley') === 'paley';
  // A dense S (M x N): the ETFs always, and the model-parallel path for every encoding (S^T V).
  const dense = cfg.encoding === 'etf' || (o.modelParallel && cfg.encoding !== 'none');
  // Paley builds the conference matrix and the projection (both M x M) and Gram-Schmidt's basis;
  // the harmonic frame its real and imaginary parts (M x N each).
  const construction = paley ? 2 * m * m + 2 * m * n : cfg.encoding === 'etf' ? 3 * m * n : dense ? m * n : 0;
  // Gram-Schmidt twice over N basis vectors of length M, against up to N earlier ones.
  // (Hadamard's dense S, model parallel only: the fast transform of N columns of I.)
  const constructionOps = paley ? 4 * m * n * n : o.modelParallel && cfg.encoding === 'hadamard' ? m * Math.max(1, Math.log2(m)) * n : 0;
  // Hadamard's column permutation (int32) and row signs (float64): 1.5 float64 words per row.
  const hadamard = cfg.encoding === 'hadamard' ? 1.5 * m : 0;
  if (o.modelParallel) {
    // Z = [X 1] S^T over all blocks (N x M), the augmented data, S and the master's W = S^T V.
    const bytes = 8 * (o.samples * m + o.samples * n + construction + hadamard + 2 * m * n);
    return { rows: m, bytes, multiplyAdds: o.samples * m * n + constructionOps };
  }
  const q = o.width + 1;
  // [X y] (N x q), S [X y] (M x q), the workers' blocks (M x width), plus S if dense.
  const bytes = 8 * (n * q + m * q + m * o.width + construction + hadamard);
  const encodeOps = cfg.encoding === 'gaussian' || cfg.encoding === 'etf' ? m * n * q : cfg.encoding === 'hadamard' ? m * Math.max(1, Math.log2(m)) * q : 0;
  return { rows: m, bytes, multiplyAdds: encodeOps + constructionOps };
}

/** Bytes for an error message (optimizers/ do not import the config layer's formatter). */
export function formatBytes(b: number): string {
  if (b >= 1e12) return `${(b / 1e12).toPrecision(3)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${Math.round(b / 1e3)} KB`;
}
