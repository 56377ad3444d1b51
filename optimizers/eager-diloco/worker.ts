import { awaitBackground, sendInBackground, type BackgroundTransfer } from '../../comm/background.ts';
import { AdamW } from '../common/adamw.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export interface EagerDilocoConfig extends SgdHyperparameters {
  innerOptimizer: 'adamw' | 'sgd';
  betas: [number, number];
  eps: number;
  /** H: inner steps between outer steps. */
  localSteps: number;
  outerLr: number;
  outerMomentum: number;
  /** Inner steps the outer all-reduce may run behind (0: blocking DiLoCo; at most H). */
  overlap: number;
}

/** The steps at which an outer step is taken: every H steps and at the last one. */
export function isOuterStep(step: number, h: number, steps: number): boolean {
  return step % h === 0 || step === steps;
}

/**
 * Eager-update DiLoCo (Kale, Douillard, Donchev 2025, "Eager updates for overlapped
 * communication and computation in DiLoCo"). Worker m keeps its own copy of the outer
 * parameters θ_m and outer Nesterov momentum. At an outer step r it sends its outer gradient
 * Δ_m^r = θ_m - x_m into an all-reduce that runs in the background, and without waiting applies
 * the eager outer gradient
 *
 *   Δ̃_m^r = Δ_m^r / M + (Δ̄^{r-1} - Δ_m^{r-1} / M)
 *
 * its own fresh contribution plus the other M-1 workers' contributions of the previous round
 * (now arrived), so every worker's outer gradient enters exactly once: its own at once, the
 * others' one outer step late. The average Δ̄^r must be in hand `overlap` inner steps after the
 * send (the worker's clock waits there if the network is slower); overlap = H is the paper's
 * one-outer-step overlap. The last outer step blocks and applies Δ̄^R plus what is still owed,
 * so no contribution is lost. With overlap 0 every outer step blocks and Δ̃ = Δ̄: plain DiLoCo,
 * the same arithmetic in the same order as optimizers/diloco on a ring (tested: identical
 * metrics). The workers' θ_m differ by their own-versus-others timing; rank 0 evaluates its own.
 */
export async function runEagerDiloco(ctx: WorkerContext, cfg: EagerDilocoConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const inv = 1 / ctx.workers;
  const outer = Float32Array.from(ctx.initialParams);
  const local = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const innerVelocity = new Float32Array(d);
  const outerVelocity = new Float32Array(d);
  const adam = cfg.innerOptimizer === 'adamw' ? new AdamW(d, cfg.betas[0], cfg.betas[1], cfg.eps, cfg.weightDecay) : null;
  // This round's outer gradient: summed in place by the all-reduce (then averaged).
  const delta = new Float32Array(d);
  // The outer gradient this worker sent last round (Δ_m^{r-1}) and what it still owes (others').
  const mine = new Float32Array(d);
  const owed = new Float32Array(d);
  const eager = new Float32Array(d);
  let inFlight: { mergeAt: number; transfer: BackgroundTransfer } | null = null;
  // The average of the round in flight has arrived: the others' share of it is owed.
  const settle = (): void => {
    awaitBackground(ep, inFlight!.transfer);
    for (let i = 0; i < d; i++) owed[i] = delta[i]! * inv - mine[i]! * inv;
    inFlight = null;
  };
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = computeGradient(ctx, step, local, grad);
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    if (adam) adam.step(local, grad, lr);
    else sgdStep(local, grad, innerVelocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
    const commStart = ep.now;
    const background: [number, number][] = [];
    // With overlap H the previous round is due at this outer step, before this round's send.
    if (inFlight !== null && inFlight.mergeAt <= step) settle();
    if (isOuterStep(step, cfg.localSteps, ctx.steps)) {
      for (let i = 0; i < d; i++) delta[i] = outer[i]! - local[i]!;
      const tau = step === ctx.steps ? 0 : Math.min(cfg.overlap, ctx.steps - step);
      if (tau === 0) {
        await ctx.allReduce(delta);
        for (let i = 0; i < d; i++) delta[i] = delta[i]! * inv;
        // Overlap 0 owes nothing: Δ̄ alone, bit for bit DiLoCo's outer step.
        if (cfg.overlap > 0) for (let i = 0; i < d; i++) delta[i] = delta[i]! + owed[i]!;
        owed.fill(0);
        sgdStep(outer, delta, outerVelocity, cfg.outerLr, cfg.outerMomentum, 0, true);
      } else {
        mine.set(delta);
        for (let i = 0; i < d; i++) eager[i] = mine[i]! * inv + owed[i]!;
        // The bytes move now; the worker's clock goes on from the end of its compute.
        const transfer = await sendInBackground(ep, () => ctx.allReduce(delta));
        inFlight = { mergeAt: step + tau, transfer };
        background.push([transfer.sent, transfer.arrives]);
        sgdStep(outer, eager, outerVelocity, cfg.outerLr, cfg.outerMomentum, 0, true);
      }
      local.set(outer);
    }
    await finishStep(ctx, step, computed, ep.now - commStart, local, background);
  }
}
