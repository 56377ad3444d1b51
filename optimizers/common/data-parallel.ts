import { learningRate } from './lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from './sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

/**
 * The step loop of synchronous data-parallel SGD, shared by every algorithm that differs only in
 * how the workers' gradients are averaged:
 *
 *   for t = 1..T:
 *     g_i = ∇f(x; batch_i)                      (clock += compute time)
 *     ḡ   = average(g_1..g_n)                   (the algorithm's exchange; clock += comm)
 *     x   = SGD(x, ḡ)                           (the same update on every worker)
 *
 * `average(grad, out)` may use `grad` as scratch. A crash stops the run (no master carries on).
 */
export async function dataParallelSgd(ctx: WorkerContext, cfg: SgdHyperparameters, average: (grad: Float32Array, out: Float32Array) => Promise<void>): Promise<void> {
  const { ep } = ctx;
  const d = ctx.oracle.paramCount;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const avg = new Float32Array(d);
  const velocity = new Float32Array(d);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const local = computeGradient(ctx, step, params, grad);
    // A Byzantine worker sends its attack instead of its gradient (fault kind byzantine).
    ctx.byzantine?.corrupt(step, params, grad);
    const commStart = ep.now;
    await average(grad, avg);
    sgdStep(params, avg, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    await finishStep(ctx, step, local, ep.now - commStart, params);
  }
}
