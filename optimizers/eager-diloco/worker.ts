import { awaitBackground, reportLaunched, sendInBackground, type BackgroundTransfer } from '../../comm/background.ts';
import { LocalPhase, type LocalPhaseConfig } from '../common/local-phase.ts';
import { isOuterStep } from '../common/outer-steps.ts';
import { sgdStep } from '../common/sgd-update.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';

export interface EagerDilocoConfig extends LocalPhaseConfig {
  outerLr: number;
  outerMomentum: number;
  /**
   * 0: blocking DiLoCo; localSteps: the paper's one-outer-step overlap (absent: localSteps).
   * Values in between are refused by the config rules (see the folder's README).
   */
  overlap?: number;
}

/** Whether the outer all-reduce overlaps the next inner phase (absent `overlap` = localSteps). */
function eagerOverlaps(cfg: Pick<EagerDilocoConfig, 'overlap' | 'localSteps'>): boolean {
  return (cfg.overlap ?? cfg.localSteps) > 0;
}

/**
 * Eager-update DiLoCo (Kale, Douillard, Donchev 2025, "Eager updates for overlapped
 * communication and computation in DiLoCo"), with the paper's one-outer-step overlap. Worker m
 * keeps its own copy of the outer parameters θ_m and outer Nesterov momentum. At an outer step r
 * it sends its outer gradient Δ_m^r = θ_m - x_m into an all-reduce that runs in the background
 * during the next H inner steps, and without waiting applies the eager outer gradient
 *
 *   Δ̃_m^r = Δ_m^r / M + (Δ̄^{r-1} - Δ_m^{r-1} / M)
 *
 * its own fresh contribution plus the other M-1 workers' contributions of the previous round,
 * which are due now (the worker's clock waits here if that all-reduce is slower than H inner
 * steps). Every worker's outer gradient enters each θ exactly once: its own at once, the
 * others' one outer step late. The last outer step blocks and applies Δ̄^R plus what is still
 * owed, so no contribution is lost. With overlap 0 every outer step blocks and Δ̃ = Δ̄: plain
 * DiLoCo, the same arithmetic in the same order as optimizers/diloco on a ring (tested:
 * identical metrics). The workers' θ_m differ by their own-versus-others timing; rank 0
 * evaluates its own.
 */
export async function runEagerDiloco(ctx: WorkerContext, cfg: EagerDilocoConfig): Promise<void> {
  const { ep } = ctx;
  const phase = new LocalPhase(ctx, cfg);
  const d = ctx.oracle.paramCount;
  const inv = 1 / ctx.workers;
  const overlapped = eagerOverlaps(cfg);
  const outerVelocity = new Float32Array(d);
  // This round's outer gradient: summed in place by the all-reduce (then averaged).
  const delta = new Float32Array(d);
  // The outer gradient this worker sent last round (Δ_m^{r-1}) and what it still owes (others').
  const mine = new Float32Array(d);
  const owed = new Float32Array(d);
  const eager = new Float32Array(d);
  let inFlight: BackgroundTransfer | null = null;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = phase.innerStep(step);
    const commStart = ep.now;
    const background: [number, number][] = [];
    if (isOuterStep(step, cfg.localSteps, ctx.steps)) {
      // The previous round's average is due at this outer step, before this round's send.
      if (inFlight !== null) {
        awaitBackground(ep, inFlight, background);
        for (let i = 0; i < d; i++) owed[i] = delta[i]! * inv - mine[i]! * inv;
        inFlight = null;
      }
      phase.outerGradient(delta);
      if (!overlapped || step === ctx.steps) {
        await ctx.allReduce(delta);
        for (let i = 0; i < d; i++) delta[i] = delta[i]! * inv;
        // Overlap 0 owes nothing: Δ̄ alone, bit for bit DiLoCo's outer step.
        if (overlapped) for (let i = 0; i < d; i++) delta[i] = delta[i]! + owed[i]!;
        sgdStep(phase.outer, delta, outerVelocity, cfg.outerLr, cfg.outerMomentum, 0, true);
      } else {
        mine.set(delta);
        for (let i = 0; i < d; i++) eager[i] = mine[i]! * inv + owed[i]!;
        // The bytes move now; the worker's clock goes on from the end of its compute.
        inFlight = await sendInBackground(ep, () => ctx.allReduce(delta));
        reportLaunched(inFlight, background);
        sgdStep(phase.outer, eager, outerVelocity, cfg.outerLr, cfg.outerMomentum, 0, true);
      }
      phase.restart();
    }
    await finishStep(ctx, step, computed, ep.now - commStart, phase.local, background);
  }
}
