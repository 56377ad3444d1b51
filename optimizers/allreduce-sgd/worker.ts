import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export type AllreduceSgdConfig = SgdHyperparameters;

/**
 * Synchronous data-parallel SGD: every step each worker computes a gradient on its own batch,
 * the dense fp32 gradients are summed by all-reduce and averaged, and every worker applies the
 * same update, so parameters stay identical on all workers.
 */
export async function runAllreduceSgd(ctx: WorkerContext, cfg: AllreduceSgdConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(oracle.paramCount);
  const velocity = new Float32Array(oracle.paramCount);
  const inv = 1 / ctx.workers;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step, false);
    const local = computeGradient(ctx, step, params, grad);
    const commStart = ep.now;
    await ctx.allReduce(ep, grad);
    for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * inv;
    sgdStep(params, grad, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    await finishStep(ctx, step, local, ep.now - commStart, params);
  }
}
