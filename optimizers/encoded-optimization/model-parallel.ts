/**
 * Encoded optimization in the model-parallel setting (Karakus et al., JMLR 2019): for a linear
 * classifier (dtemu's `logistic` model: softmax cross-entropy on [X 1] W, W of p x c) the
 * *parameters* are encoded, W = S^T V with S (M x p, S^T S = I) and V (M x c), and the rows of V
 * are split over the workers. Worker b holds the encoded columns Z_b = [X 1] S_b^T (N x m_b) and
 * every label; each step, given z = [X 1] W (N x c),
 *
 *   G      = (softmax(z) - onehot(y)) / N                      the loss's gradient in z
 *   dV_b   = -lr (Z_b^T G + ridge V_b)                          a gradient step on its block
 *   push dU_b = Z_b dV_b (N x c) and dV_b (m_b x c)
 *
 * and the master, oblivious to S, applies the blocks of the first k to arrive: V_b += dV_b,
 * z += dU_b, then W = S^T V, and replies [W, V, z]. With every block and S^T S = I, W moves by
 * -lr (X^T G + ridge W): uncoded gradient descent; with k < n it is block coordinate descent on
 * the encoded problem, whose redundancy lets the blocks that arrive stand in for the others.
 */
import { createEncoding, splitRows } from '../../src/coding/encoded/index.ts';
import type { TrainingRows } from '../worker-context.ts';
import { ParameterError } from '../../comm/param-error.ts';
import { emptyBlocks, encodedRows, type EncodedOptimizationConfig } from './config.ts';
import { ENCODE_MAX_MULTIPLY_ADDS, encodingCost } from './encoding-cost.ts';
import { augmentedRows } from './encoded-data.ts';

/** S (M x p, row-major) of the configured encoding for p parameters per class; none: I. */
export function parameterEncoding(cfg: EncodedOptimizationConfig, p: number, workers: number, seed: number): { s: Float64Array; m: number } {
  const m = encodedRows(cfg, p, workers);
  switch (cfg.encoding) {
    case 'none': {
      const s = new Float64Array(p * p);
      for (let i = 0; i < p; i++) s[i * p + i] = 1;
      return { s, m: p };
    }
    case 'gaussian':
      return { s: createEncoding({ kind: 'gaussian', beta: cfg.beta ?? 1 }, p, seed)!.dense(), m };
    case 'hadamard':
      return { s: createEncoding({ kind: 'hadamard', beta: cfg.beta ?? 1 }, p, seed)!.dense(), m };
    case 'etf':
      return { s: createEncoding({ kind: 'etf', construction: cfg.construction ?? 'paley' }, p, seed)!.dense(), m };
    case 'replication':
      throw new Error('encoded-optimization: replication applies to least squares only');
  }
}

export interface ColumnBlock {
  /** Z_b = [X 1] S_b^T, row-major N x mb. */
  z: Float64Array;
  n: number;
  mb: number;
  /** First row of S (of V) this block holds. */
  start: number;
  labels: Int32Array;
  classes: number;
  p: number;
  m: number;
}

/** Worker `rank`'s encoded columns. */
export function columnBlockFor(cfg: EncodedOptimizationConfig, data: TrainingRows, workers: number, rank: number, seed: number): ColumnBlock {
  checkLoadedParameterSize(cfg, data, workers);
  const { x, p } = augmentedRows(data);
  const { s, m } = parameterEncoding(cfg, p, workers, seed);
  const bounds = splitRows(m, workers);
  const start = bounds[rank]!;
  const mb = bounds[rank + 1]! - start;
  const n = data.n;
  const z = new Float64Array(n * mb);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < mb; j++) {
      let acc = 0;
      const srow = (start + j) * p;
      for (let c = 0; c < p; c++) acc += x[i * p + c]! * s[srow + c]!;
      z[i * mb + j] = acc;
    }
  }
  return { z, n, mb, start, labels: Int32Array.from(data.y as Int32Array), classes: data.classes, p, m };
}

/**
 * One worker step: from z (N x c) the loss (mean cross-entropy) and the push [dU_b, dV_b] into
 * `out` (float32, N c + mb c). vb: the worker's block of V (mb x c). Scratch g: N x c.
 */
export function columnStep(blk: ColumnBlock, z: Float32Array, vb: Float64Array, lr: number, ridge: number, g: Float64Array, dv: Float64Array, out: Float32Array): number {
  const { n, mb, classes: c, labels } = blk;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let k = 0; k < c; k++) mx = Math.max(mx, z[i * c + k]!);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(z[i * c + k]! - mx);
    const lse = mx + Math.log(sum);
    const y = labels[i]!;
    loss += lse - z[i * c + y]!;
    for (let k = 0; k < c; k++) g[i * c + k] = (Math.exp(z[i * c + k]! - lse) - (k === y ? 1 : 0)) / n;
  }
  // dV_b = -lr (Z_b^T G + ridge V_b)
  dv.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < mb; j++) {
      const zij = blk.z[i * mb + j]!;
      if (zij === 0) continue;
      for (let k = 0; k < c; k++) dv[j * c + k] = dv[j * c + k]! + zij * g[i * c + k]!;
    }
  }
  for (let q = 0; q < mb * c; q++) dv[q] = -lr * (dv[q]! + ridge * vb[q]!);
  // dU_b = Z_b dV_b
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      let acc = 0;
      for (let j = 0; j < mb; j++) acc += blk.z[i * mb + j]! * dv[j * c + k]!;
      out[i * c + k] = acc;
    }
  }
  for (let q = 0; q < mb * c; q++) out[n * c + q] = dv[q]!;
  return loss / n;
}

/** The model-parallel worker's loop state and step (called by runEncodedWorker for classifiers). */
export function modelParallelWorker(cfg: EncodedOptimizationConfig, data: TrainingRows, workers: number, rank: number, seed: number, initialParams: Float32Array) {
  const blk = columnBlockFor(cfg, data, workers, rank, seed);
  const { n, mb, classes: c, p, m, start } = blk;
  if (initialParams.length !== p * c) throw new Error(`encoded-optimization: model has ${initialParams.length} parameters, expected ${p * c} (a linear classifier on ${p - 1} inputs, ${c} classes)`);
  // V = S W0 is only W0's encoding when W0 = 0 (the logistic model starts at zero).
  if (initialParams.some((v) => v !== 0)) throw new Error('encoded-optimization: the model-parallel encoding starts from W = 0');
  const vb = new Float64Array(mb * c);
  const z = new Float32Array(n * c);
  const g = new Float64Array(n * c);
  const dv = new Float64Array(mb * c);
  const out = new Float32Array(n * c + mb * c);
  return {
    out,
    /** Rows x columns of work, in units of one modelled batch (batchSize samples of p inputs). */
    workUnits: (n * mb) / (data.batchSize * p),
    step: () => columnStep(blk, z, vb, cfg.lr, cfg.ridge, g, dv, out),
    /** The master's reply [W, V, z]: W into params, this block's V and z kept. */
    receive(reply: Float32Array, params: Float32Array): void {
      params.set(reply.subarray(0, p * c));
      for (let q = 0; q < mb * c; q++) vb[q] = reply[p * c + start * c + q]!;
      z.set(reply.subarray(p * c + m * c, p * c + m * c + n * c));
    },
  };
}

/** The master's side: V, z and W = S^T V, updated from the blocks of the first k workers. */
export class ModelParallelState {
  private readonly s: Float64Array;
  readonly m: number;
  private readonly bounds: Int32Array;
  private readonly v: Float64Array;
  private z: Float64Array | null = null;
  private reply: Float32Array | null = null;
  private readonly w: Float64Array;

  constructor(
    cfg: EncodedOptimizationConfig,
    readonly p: number,
    readonly c: number,
    workers: number,
    seed: number,
  ) {
    const enc = parameterEncoding(cfg, p, workers, seed);
    this.s = enc.s;
    this.m = enc.m;
    this.bounds = splitRows(enc.m, workers);
    this.v = new Float64Array(enc.m * c);
    this.w = new Float64Array(p * c);
  }

  /** Add worker r's push [dU_r, dV_r]. */
  apply(r: number, push: Float32Array): void {
    const { c } = this;
    const start = this.bounds[r]!;
    const mb = this.bounds[r + 1]! - start;
    const n = push.length / c - mb;
    this.z ??= new Float64Array(n * c);
    for (let q = 0; q < n * c; q++) this.z[q] = this.z[q]! + push[q]!;
    for (let q = 0; q < mb * c; q++) this.v[start * c + q] = this.v[start * c + q]! + push[n * c + q]!;
  }

  /** [W = S^T V, V, z] as the reply (fp32). */
  replyVector(): Float32Array {
    const { p, c, m, s, v } = this;
    const z = this.z ?? new Float64Array(0);
    this.reply ??= new Float32Array(p * c + m * c + z.length);
    const out = this.reply;
    const w = this.w;
    w.fill(0);
    for (let r = 0; r < m; r++) {
      for (let col = 0; col < p; col++) {
        const srv = s[r * p + col]!;
        if (srv === 0) continue;
        for (let k = 0; k < c; k++) w[col * c + k] = w[col * c + k]! + srv * v[r * c + k]!;
      }
    }
    out.set(w);
    for (let q = 0; q < m * c; q++) out[p * c + q] = v[q]!;
    for (let q = 0; q < z.length; q++) out[p * c + m * c + q] = z[q]!;
    return out;
  }
}

/**
 * csv classification data: its feature count is known only here (synthetic data's was checked by
 * the config rules). The block and multiply-add checks of the rules, as a ParameterError at
 * data.features (`samples` when the rows make the work too big), before anything is built.
 */
function checkLoadedParameterSize(cfg: EncodedOptimizationConfig, data: TrainingRows, workers: number): void {
  const p = data.inputSize + 1;
  const m = encodedRows(cfg, p, workers);
  const short = emptyBlocks(cfg, p, m, workers);
  if (short) throw new ParameterError('features', `at least one encoded parameter row per block (${short.blocks} blocks)`, String(short.found));
  const cost = encodingCost(cfg, { size: p, rows: m, width: p, samples: data.n, modelParallel: true });
  if (cost.multiplyAdds > ENCODE_MAX_MULTIPLY_ADDS) {
    throw new ParameterError('samples', `an encoding of at most ${ENCODE_MAX_MULTIPLY_ADDS.toExponential(0)} multiply-adds (encoding ${cfg.encoding}, M = ${m}, ${data.n} rows)`, `${cost.multiplyAdds.toExponential(2)}`);
  }
}
