/**
 * A worker's block of the (encoded) data set: the training rows (X, y) with a bias column of
 * ones appended (the linear model's parameters are [kernel; bias], so X_aug w is its output),
 * encoded as S X_aug, S y, and split over the blocks in contiguous row ranges (splitRows).
 *
 * The encoding is done once per process and cached: every logical worker of the process takes
 * its rows from the same S X (in the papers the encoding is a one-off preprocessing step before
 * the data is placed). Float64 throughout; S is drawn from the run's seed, so every process
 * builds the same S X.
 */
import { createEncoding, splitRows } from '../../src/coding/encoded/index.ts';
import { Rng } from '../../src/util/rng.ts';
import type { TrainingRows } from '../worker-context.ts';
import { ParameterError } from '../../comm/param-error.ts';
import { blockCount, blockOf, emptyBlocks, encodedRows, type EncodedOptimizationConfig } from './config.ts';
import { ENCODE_MAX_MULTIPLY_ADDS, encodingCost } from './encoding-cost.ts';

export interface EncodedBlock {
  /** Row-major rows x p. */
  x: Float64Array;
  y: Float64Array;
  rows: number;
  /** Columns: inputs + 1 (bias). */
  p: number;
  /** Data rows N before encoding. */
  samples: number;
  /** Rows M after encoding (all blocks together). */
  encodedRows: number;
}

/** X with a column of ones appended, and y, as float64 (the data set's scale applied). */
export function augmentedRows(data: TrainingRows): { x: Float64Array; y: Float64Array; p: number } {
  const d = data.inputSize;
  const p = d + 1;
  const x = new Float64Array(data.n * p);
  const y = new Float64Array(data.n);
  for (let i = 0; i < data.n; i++) {
    for (let j = 0; j < d; j++) x[i * p + j] = data.x[i * d + j]! * data.inputScale;
    x[i * p + d] = 1;
    y[i] = data.y[i]!;
  }
  return { x, y, p };
}

/**
 * S [X y] for the Gaussian encoding without storing S: its entries are drawn in the same order
 * (row-major, stream (seed, 'encoding', 'gaussian')) as src/coding/encoded's gaussianEncoding,
 * so the result equals gaussianEncoding(N, beta, seed).encode(...), in O(p) memory beyond it.
 */
function gaussianEncode(xy: Float64Array, n: number, q: number, m: number, seed: number): Float64Array {
  const rng = new Rng(seed, 'encoding', 'gaussian');
  const sd = 1 / Math.sqrt(m);
  const out = new Float64Array(m * q);
  for (let r = 0; r < m; r++) {
    const o = r * q;
    for (let j = 0; j < n; j++) {
      const s = sd * rng.normal();
      const xo = j * q;
      for (let c = 0; c < q; c++) out[o + c] = out[o + c]! + s * xy[xo + c]!;
    }
  }
  return out;
}

/** [X y] (N x (p + 1)) encoded by the configured S: M x (p + 1). */
function encodeAll(cfg: EncodedOptimizationConfig, x: Float64Array, y: Float64Array, n: number, p: number, workers: number, seed: number): { xy: Float64Array; m: number } {
  const q = p + 1;
  const xy = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    xy.set(x.subarray(i * p, (i + 1) * p), i * q);
    xy[i * q + p] = y[i]!;
  }
  const m = encodedRows(cfg, n, workers);
  switch (cfg.encoding) {
    case 'none':
    case 'replication':
      return { xy, m: n };
    case 'gaussian':
      return { xy: gaussianEncode(xy, n, q, m, seed), m };
    case 'hadamard':
      return { xy: createEncoding({ kind: 'hadamard', beta: cfg.beta ?? 1 }, n, seed)!.encode(xy, q), m };
    case 'etf':
      return { xy: createEncoding({ kind: 'etf', construction: cfg.construction ?? 'paley' }, n, seed)!.encode(xy, q), m };
  }
}

let cache: { key: string; source: TrainingRows['x']; xy: Float64Array; m: number; p: number } | null = null;

/** The rows of S [X 1] and S y that `rank` holds. */
export function encodedBlockFor(cfg: EncodedOptimizationConfig, data: TrainingRows, workers: number, rank: number, seed: number): EncodedBlock {
  const key = JSON.stringify([cfg.encoding, cfg.beta, cfg.construction, data.n, data.inputSize, workers, seed]);
  if (!cache || cache.key !== key || cache.source !== data.x) {
    checkLoadedSize(cfg, data, workers);
    const aug = augmentedRows(data);
    const { xy, m } = encodeAll(cfg, aug.x, aug.y, data.n, aug.p, workers, seed);
    cache = { key, source: data.x, xy, m, p: aug.p };
  }
  const { xy, m, p } = cache;
  const q = p + 1;
  const bounds = splitRows(m, blockCount(cfg, workers));
  const b = blockOf(cfg, workers, rank);
  const rows = bounds[b + 1]! - bounds[b]!;
  const x = new Float64Array(rows * p);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const src = (bounds[b]! + i) * q;
    x.set(xy.subarray(src, src + p), i * p);
    y[i] = xy[src + p]!;
  }
  return { x, y, rows, p, samples: data.n, encodedRows: cfg.encoding === 'replication' ? m * (cfg.beta ?? 1) : m };
}

/**
 * csv data's size is known only here (synthetic data's was checked by the config rules): the
 * same block and work checks, as a ParameterError at data.samples, before anything is encoded.
 */
function checkLoadedSize(cfg: EncodedOptimizationConfig, data: TrainingRows, workers: number): void {
  const m = encodedRows(cfg, data.n, workers);
  const short = emptyBlocks(cfg, data.n, m, workers);
  if (short) throw new ParameterError('samples', `at least one ${short.what} per block (${short.blocks} blocks)`, String(short.found));
  const cost = encodingCost(cfg, { size: data.n, rows: m, width: data.inputSize + 1, samples: data.n, modelParallel: false });
  if (cost.multiplyAdds > ENCODE_MAX_MULTIPLY_ADDS) {
    throw new ParameterError('samples', `an encoding of at most ${ENCODE_MAX_MULTIPLY_ADDS.toExponential(0)} multiply-adds (encoding ${cfg.encoding}, M = ${m})`, `${data.n} rows (${cost.multiplyAdds.toExponential(2)})`);
  }
}
