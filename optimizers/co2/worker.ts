import { awaitBackground, reportLaunched, sendInBackground, type BackgroundTransfer } from '../../comm/background.ts';
import { LocalPhase, type LocalPhaseConfig } from '../common/local-phase.ts';
import { isOuterStep } from '../common/outer-steps.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';

export interface Co2Config extends LocalPhaseConfig {
  outerLr: number;
  outerMomentum: number;
  /** Outer steps between an all-reduce's launch and the use of its average (1: CO2; 0: blocking). */
  delay: 0 | 1;
  /** λ >= 1: the stale outer gradient is divided by it (the staleness-gap penalty; absent with delay 0). */
  gapPenalty?: number;
  /** c > 0: outer momentum clamped to [-c, c] element-wise; absent: no clipping. */
  clip?: number;
}

/**
 * CO2 (Sun, Qin, Sun, Li, Li, Shen, Qiao, Zhong, ICLR 2024, "CO2: Efficient distributed training
 * with full communication-computation overlap"): local updating plus a one-step-delayed
 * asynchronous all-reduce of the outer gradient, which runs behind the next τ local steps.
 *
 *   θ = x_i = x_0;  m = 0
 *   every τ local steps (outer step r):
 *     Δ_i^r = θ - x_i;  launch all-reduce(Δ^r) in the background
 *     wait for Δ̄^{r-1} (launched one outer step ago; Δ̄^0 = 0)
 *     m = β m + Δ̄^{r-1} / λ;   m = clip(m, -c, c)            (heavy-ball outer momentum)
 *     θ = θ - α m;  x_i = θ
 *
 * Δ̄^{r-1} was measured against the outer parameters of two outer steps ago, while θ has moved
 * once since: that staleness gap is what the penalty λ >= 1 shrinks, so it applies to the stale
 * average only. λ is a constant here, as in the authors' released code (their co2_gap_penalty);
 * the momentum clipping is their element-wise clamp (co2_clip_threshold), off by default as
 * there. The last step blocks: it applies Δ̄^{R-1} / λ and then the fresh Δ̄^R, undivided, as a
 * second outer step, so no round is lost. With delay 0 every outer step blocks and uses its own
 * fresh average, undivided: with no clip and outer momentum 0 that is exactly DiLoCo with outer
 * momentum 0 (tested, identical metrics); with momentum it is DiLoCo with heavy-ball instead of
 * Nesterov outer momentum.
 */
export async function runCo2(ctx: WorkerContext, cfg: Co2Config): Promise<void> {
  const { ep } = ctx;
  const phase = new LocalPhase(ctx, cfg);
  const d = ctx.oracle.paramCount;
  const inv = 1 / ctx.workers;
  const outerMomentum = new Float32Array(d);
  // Δ of the round being launched, and the sum of the round launched one outer step ago.
  let fresh = new Float32Array(d);
  let stale = new Float32Array(d);
  let inFlight: BackgroundTransfer | null = null;
  const penalty = 1 / (cfg.gapPenalty ?? 1);
  const clip = cfg.clip ?? null;
  /** One outer step with the all-reduced sum `avgSum`; `isStale`: launched one outer step ago. */
  const outerStep = (avgSum: Float32Array, isStale: boolean): void => {
    const mu = cfg.outerMomentum;
    const a = cfg.outerLr;
    const scale = isStale ? penalty : 1;
    const outer = phase.outer;
    for (let i = 0; i < d; i++) {
      // The average as a float32 vector holds it (DiLoCo's arithmetic, for the delay-0 identity).
      let g = Math.fround(avgSum[i]! * inv);
      if (scale !== 1) g *= scale;
      let m = mu === 0 ? g : mu * outerMomentum[i]! + g;
      if (clip !== null) m = m > clip ? clip : m < -clip ? -clip : m;
      outerMomentum[i] = m;
      outer[i] = outer[i]! - a * m;
    }
  };
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = phase.innerStep(step);
    const commStart = ep.now;
    const background: [number, number][] = [];
    if (isOuterStep(step, cfg.localSteps, ctx.steps)) {
      phase.outerGradient(fresh);
      if (cfg.delay === 0) {
        await ctx.allReduce(fresh);
        outerStep(fresh, false);
      } else {
        const last = step === ctx.steps;
        // The bytes of this round move now; the last round blocks (nothing left to overlap).
        const transfer = last ? null : await sendInBackground(ep, () => ctx.allReduce(fresh));
        if (last) await ctx.allReduce(fresh);
        else reportLaunched(transfer!, background);
        // The previous round's average: due now, one outer step after its launch.
        if (inFlight) {
          awaitBackground(ep, inFlight, background);
          outerStep(stale, true);
        }
        if (last) outerStep(fresh, false);
        inFlight = transfer;
        [fresh, stale] = [stale, fresh];
      }
      phase.restart();
    }
    await finishStep(ctx, step, computed, ep.now - commStart, phase.local, background);
  }
}
