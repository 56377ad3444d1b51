import { PowerSgd, type PowerSgdLayer } from '../../comm/powersgd/index.ts';
import type { ModelParamShape } from '../worker-context.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export interface PowerSgdConfig extends SgdHyperparameters {
  rank: number;
  minCompressionRate: number;
  errorFeedback: 'none' | 'ef' | 'ef21';
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
 * PowerSGD (Vogels et al. 2019) data-parallel SGD: the gradient of every large enough matrix is
 * compressed to rank r by one warm-started power iteration (P = M Q, all-reduce P, orthonormalise,
 * Q = M^T P, all-reduce Q) with error feedback; small and 1-D tensors are all-reduced dense. Both
 * all-reduces go around the ring, so their time comes from the network model like dense SGD's.
 */
export async function runPowerSgd(ctx: WorkerContext, cfg: PowerSgdConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const avg = new Float32Array(d);
  const velocity = new Float32Array(d);
  const psgd = new PowerSgd(
    powerSgdLayers(ctx.params),
    { rank: cfg.rank, minCompressionRate: cfg.minCompressionRate, errorFeedback: cfg.errorFeedback === 'ef', warmStart: cfg.warmStart, startIter: cfg.startIter, seed: ctx.seed },
    (data) => ctx.allReduce(ep, data),
    ctx.workers,
  );
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step, false);
    const local = computeGradient(ctx, step, params, grad);
    const commStart = ep.now;
    await psgd.step(grad, avg);
    sgdStep(params, avg, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    await finishStep(ctx, step, local, ep.now - commStart, params);
  }
}
