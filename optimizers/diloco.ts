import { AdamW } from './adamw.ts';
import { learningRate, type ScheduleSpec } from './lr-schedule.ts';
import { sgdStep } from './sgd-update.ts';
import { evaluateIfDue, yieldToEventLoop, type WorkerContext } from './worker-context.ts';

export interface DilocoConfig {
  /** Inner optimizer: AdamW (default) or SGD with the optimizer's momentum / weight decay. */
  innerOptimizer: 'adamw' | 'sgd';
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: ScheduleSpec;
  /** H: inner steps between synchronizations. */
  localSteps: number;
  outerLr: number;
  outerMomentum: number;
}

/**
 * DiLoCo (Douillard et al. 2023): every worker runs H steps of its inner optimizer (state kept
 * per worker across rounds), then the outer gradient Δ_i = θ - θ_i (global minus local
 * parameters) is averaged by ring all-reduce and the outer optimizer, SGD with Nesterov momentum
 * (torch.optim.SGD(nesterov=True) semantics: v <- μ v + Δ; θ <- θ - lr_out (Δ + μ v)), updates
 * the global parameters, from which every worker continues.
 *
 * With H = 1, outer lr 1, outer momentum 0 and an SGD inner optimizer without momentum, θ
 * becomes the mean of the workers' one-step results, i.e. exactly synchronous SGD on the
 * averaged gradient (tested).
 */
export async function runDiloco(ctx: WorkerContext, cfg: DilocoConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const global = Float32Array.from(ctx.initialParams);
  const local = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const outerGrad = new Float32Array(d);
  const outerVelocity = new Float32Array(d);
  const innerVelocity = new Float32Array(d);
  const adam = cfg.innerOptimizer === 'adamw' ? new AdamW(d, 0.9, 0.999, 1e-8, cfg.weightDecay) : null;
  const inv = 1 / ctx.workers;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step, false);
    const loss = oracle.lossAndGrad(local, ctx.nextBatch(), grad);
    const { wallSec, cpuSec } = oracle.lastTiming();
    const { compute, delay } = ctx.computeTime(step, wallSec);
    ep.now += compute + delay;
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    if (adam) adam.step(local, grad, lr);
    else sgdStep(local, grad, innerVelocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
    let comm = 0;
    if (step % cfg.localSteps === 0 || step === ctx.steps) {
      const commStart = ep.now;
      for (let i = 0; i < d; i++) outerGrad[i] = global[i]! - local[i]!;
      await ctx.allReduce(ep, outerGrad);
      for (let i = 0; i < d; i++) outerGrad[i] = outerGrad[i]! * inv;
      sgdStep(global, outerGrad, outerVelocity, cfg.outerLr, cfg.outerMomentum, 0, true);
      local.set(global);
      comm = ep.now - commStart;
    }
    await yieldToEventLoop();
    ctx.reportStep(step, loss, compute, delay, comm, wallSec, cpuSec);
    await evaluateIfDue(ctx, step, local);
  }
}
