import { PowerSgd, type PowerSgdLayer } from '../../comm/powersgd/index.ts';
import type { ModelParamShape } from '../worker-context.ts';
import { dataParallelSgd } from '../common/data-parallel.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import type { WorkerContext } from '../worker-context.ts';

export interface PowerSgdConfig extends SgdHyperparameters {
  rank: number;
  minCompressionRate: number;
  errorFeedback: 'none' | 'ef';
  warmStart: boolean;
  startIter: number;
}

/**
 * The layers PowerSGD sees: each tensor as a matrix. Convolution kernels [kh, kw, in, out] are
 * viewed as (kh*kw*in) x out, the natural matrix of a convolution, rather than kh x (...).
 */
export function powerSgdLayers(params: readonly ModelParamShape[]): PowerSgdLayer[] {
  return params.map((p) => ({
    offset: p.offset,
    size: p.size,
    shape: p.shape.length === 4 ? [p.shape[0]! * p.shape[1]! * p.shape[2]!, p.shape[3]!] : p.shape,
  }));
}

export interface PowerSgdReport {
  /** Elements of the model / elements all-reduced per compressed step. */
  overallCompressionRatio: number;
  layers: { name: string; shape: number[]; matrix: [number, number]; compressed: boolean; rank: number; compressionRatio: number; floatsPerStep: number }[];
}

/** What PowerSGD does with each tensor of the model (for summary.json), without running it. */
export function powerSgdReport(params: readonly ModelParamShape[], cfg: PowerSgdConfig, workers: number): PowerSgdReport {
  const ps = new PowerSgd(
    powerSgdLayers(params),
    { rank: cfg.rank, minCompressionRate: cfg.minCompressionRate, errorFeedback: cfg.errorFeedback === 'ef', warmStart: cfg.warmStart, startIter: 0, seed: 0 },
    async () => {},
    workers,
  );
  return {
    overallCompressionRatio: ps.compressionRatio().overall,
    layers: ps.plans.map((p, i) => ({
      name: params[i]!.name,
      shape: params[i]!.shape,
      matrix: [p.rows, p.cols],
      compressed: p.compressed,
      rank: p.rank,
      compressionRatio: p.compressionRate,
      floatsPerStep: p.compressed ? p.rank * (p.rows + p.cols) : p.size,
    })),
  };
}

/**
 * PowerSGD (Vogels et al. 2019), as PyTorch's `powerSGD_hook`: every large enough gradient
 * matrix M (n x m) is compressed to rank r by one warm-started power iteration with error
 * feedback; small and 1-D tensors are all-reduced dense.
 *
 *   for t = 1..T:
 *     g_i = ∇f(x; batch_i);  M_i = e_i + g_i              (per matrix, error feedback)
 *     P = all-reduce(M_i Q) / n;  P = orthonormalise(P)
 *     Q = all-reduce(M_i^T P) / n;  ḡ = P Q^T;  e_i = M_i - ḡ
 *     x = SGD(x, ḡ)                                      (Q is kept for the next step: warm start)
 *
 * Both all-reduces go around the ring (or through the star's server), so their time comes from
 * the network model like dense SGD's.
 */
export function runPowerSgd(ctx: WorkerContext, cfg: PowerSgdConfig): Promise<void> {
  const psgd = new PowerSgd(
    powerSgdLayers(ctx.params),
    { rank: cfg.rank, minCompressionRate: cfg.minCompressionRate, errorFeedback: cfg.errorFeedback === 'ef', warmStart: cfg.warmStart, startIter: cfg.startIter, seed: ctx.seed },
    (data) => ctx.allReduce(data),
    ctx.workers,
  );
  return dataParallelSgd(ctx, cfg, (grad, avg) => psgd.step(grad, avg));
}
