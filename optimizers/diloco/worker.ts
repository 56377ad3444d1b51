import { awaitBackground, reportLaunched, sendInBackground, type BackgroundTransfer } from '../../comm/background.ts';
import type { FeedbackMode } from '../../comm/compress/error-feedback.ts';
import { AdamW } from '../common/adamw.ts';
import { DILOCO_NAMESPACE, dilocoPushPull } from './master.ts';
import { receiveRejoinModel } from '../common/rejoin.ts';
import { CompressedExchange, type ConfiguredCompressor } from '../../comm/communicator.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export interface DilocoConfig extends SgdHyperparameters {
  /** Inner optimizer: AdamW (default) or SGD with the optimizer's momentum / weight decay. */
  innerOptimizer: 'adamw' | 'sgd';
  /** AdamW's (beta1, beta2) and epsilon. */
  betas: [number, number];
  eps: number;
  /** H: inner steps between synchronizations. */
  localSteps: number;
  outerLr: number;
  outerMomentum: number;
  /** Streaming DiLoCo: number of fragments F synchronized in turn (1 = plain DiLoCo). */
  fragments: number;
  /** Streaming DiLoCo: local = alpha * local + (1 - alpha) * global after a fragment's sync. */
  mixing: number;
  /** Streaming DiLoCo: tau, inner steps run while a fragment's all-reduce is in flight. */
  overlap: number;
  /** Outer-gradient compression (e.g. fp16, or qsgd with 127 / 7 levels for 8 / 4 bits). */
  compressor: ConfiguredCompressor;
  errorFeedback: FeedbackMode;
  aggregation: 'auto' | 'allgather' | 'ring' | 'ps';
}

/** A fragment whose averaged outer gradient is on its way: merged at step mergeAt. */
interface InFlight {
  p: number;
  mergeAt: number;
  /** Its exchange, running in the background (virtual time). */
  transfer: BackgroundTransfer;
}

/** On a star, DiLoCo synchronizes through a master that can leave late or down workers out. */
export function dilocoUsesMaster(topology: string): boolean {
  return topology === 'star';
}

/**
 * Fragment p of F covers elements [start, end) of the flat vector (contiguous, nearly equal) and
 * is synchronized at steps t with (t - p H / F) divisible by H, staggered so that one fragment
 * travels every H / F steps; every fragment also synchronizes at the last step.
 */
export function fragmentOf(p: number, fragments: number, length: number): { start: number; end: number } {
  return { start: Math.floor((p * length) / fragments), end: Math.floor(((p + 1) * length) / fragments) };
}

export function fragmentSyncs(p: number, fragments: number, h: number, step: number, steps: number): boolean {
  if (step === steps) return true;
  const offset = Math.floor((p * h) / fragments);
  return step > offset && (step - offset) % h === 0;
}

/**
 * DiLoCo (Douillard et al. 2023): every worker runs H steps of its inner optimizer (state kept
 * per worker across rounds), then the outer gradient Δ_i = θ - θ_i (global minus local
 * parameters) is averaged by ring all-reduce and the outer optimizer, SGD with Nesterov momentum
 * (torch.optim.SGD(nesterov=True) semantics: v <- μ v + Δ; θ <- θ - lr_out (Δ + μ v)), updates
 * the global parameters, from which every worker continues.
 *
 *   θ_i = θ
 *   for t = 1..T:
 *     θ_i = AdamW(θ_i, ∇f(θ_i; batch_i))                 (inner step, state kept per worker)
 *     if t % H == 0 or t == T:
 *       Δ = (1/n) Σ_j (θ - θ_j)                          (all-reduce of outer gradients)
 *       θ = NesterovSGD(θ, Δ; outerLr, outerMomentum);  θ_i = θ
 *
 * With H = 1, outer lr 1, outer momentum 0 and an SGD inner optimizer without momentum, θ
 * becomes the mean of the workers' one-step results, i.e. exactly synchronous SGD on the
 * averaged gradient (tested).
 *
 * On a ring, Streaming DiLoCo (Douillard et al. 2025): F fragments synchronized in turn, each
 * merged into the local parameters with mixing alpha, `overlap` tau inner steps after it was sent
 * (its all-reduce in flight meanwhile, in virtual time). On a star, through the master
 * (diloco-master.ts), which leaves late or crashed workers out and decides when a crashed
 * worker's replacement joins (rejoin.ts).
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
  const adam = cfg.innerOptimizer === 'adamw' ? new AdamW(d, cfg.betas[0], cfg.betas[1], cfg.eps, cfg.weightDecay) : null;
  const inv = 1 / ctx.workers;
  const fragments = Math.max(1, Math.min(cfg.fragments, d));
  const parts = Array.from({ length: fragments }, (_, p) => fragmentOf(p, fragments, d));
  // One exchange per fragment when outer gradients are compressed (each keeps its own EF memory).
  const exchanges =
    cfg.compressor.kind === 'none'
      ? null
      : parts.map((f) => new CompressedExchange(cfg, f.end - f.start, [{ offset: 0, size: f.end - f.start }], ctx.topology));
  const avg = new Float32Array(d);
  const inFlight: InFlight[] = [];
  // Streaming DiLoCo's merge of a fragment's fresh global values (alpha = 0: replace).
  const merge = (p: number): void => {
    const { start, end } = parts[p]!;
    const a = cfg.mixing;
    for (let i = start; i < end; i++) local[i] = a * local[i]! + (1 - a) * global[i]!;
  };
  // Fragments sent tau steps ago are merged, waiting for their all-reduce if it is late (a
  // unit-timed one's in-flight interval is decided here and reported by this step).
  const mergeDue = (step: number, background: [number, number][]): void => {
    for (let k = 0; k < inFlight.length; ) {
      const f = inFlight[k]!;
      if (f.mergeAt !== step) {
        k++;
        continue;
      }
      awaitBackground(ep, f.transfer, background);
      merge(f.p);
      inFlight.splice(k, 1);
    }
  };
  let first = 1;
  if (ctx.replacement) {
    // A replacement for a crashed worker (star): the global parameters of the synchronization
    // it joins at, a fresh inner optimizer, the data stream where it would have been.
    const round = await receiveRejoinModel(ep, DILOCO_NAMESPACE, global);
    if (round === null) return;
    local.set(global);
    first = round + 1;
    for (let s = 1; s < first; s++) ctx.nextBatch();
  }
  for (let step = first; step <= ctx.steps; step++) {
    // Through its master (star) DiLoCo goes on without a crashed worker; on a ring it cannot.
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = computeGradient(ctx, step, local, grad);
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    if (adam) adam.step(local, grad, lr);
    else sgdStep(local, grad, innerVelocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
    const commStart = ep.now;
    const background: [number, number][] = [];
    if (dilocoUsesMaster(ctx.topology)) {
      if (step % cfg.localSteps === 0 || step === ctx.steps) {
        for (let i = 0; i < d; i++) outerGrad[i] = global[i]! - local[i]!;
        // The master returns the new global parameters (this worker's Δ may have been left out).
        await dilocoPushPull(ep, outerGrad, global);
        local.set(global);
      }
    } else {
      // Mid-run, this step's fragments are sent before waiting for older ones (their bytes queue
      // behind on the links message by message, or share them max-min with the older ones when
      // timed as a unit); at the last step everything is merged before the final sync.
      if (step === ctx.steps) mergeDue(step, background);
      for (let p = 0; p < fragments; p++) {
        if (!fragmentSyncs(p, fragments, cfg.localSteps, step, ctx.steps)) continue;
        const { start, end } = parts[p]!;
        const og = outerGrad.subarray(start, end);
        const lg = local.subarray(start, end);
        const gl = global.subarray(start, end);
        for (let i = 0; i < og.length; i++) og[i] = gl[i]! - lg[i]!;
        const averageOuterGradient = async (): Promise<void> => {
          if (exchanges) {
            const out = avg.subarray(start, end);
            await exchanges[p]!.average(ep, og, ctx.uniform, out);
            og.set(out);
          } else {
            await ctx.allReduce(og);
            for (let i = 0; i < og.length; i++) og[i] = og[i]! * inv;
          }
        };
        const outerStep = () => sgdStep(gl, og, outerVelocity.subarray(start, end), cfg.outerLr, cfg.outerMomentum, 0, true);
        // The last step blocks: the run ends with every fragment merged.
        const tau = step === ctx.steps ? 0 : Math.min(cfg.overlap, ctx.steps - step);
        if (tau === 0) {
          await averageOuterGradient();
          outerStep();
          merge(p);
        } else {
          // The bytes move now; the clock they advance is the fragment's own until its merge.
          const transfer = await sendInBackground(ep, averageOuterGradient);
          outerStep();
          inFlight.push({ p, mergeAt: step + tau, transfer });
          reportLaunched(transfer, background);
        }
      }
      if (step < ctx.steps) mergeDue(step, background);
    }
    const comm = ep.now - commStart;
    await finishStep(ctx, step, computed, comm, local, background);
  }
}
