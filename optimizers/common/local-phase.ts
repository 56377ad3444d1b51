import { computeGradient, type ComputedStep, type WorkerContext } from '../worker-context.ts';
import { AdamW } from './adamw.ts';
import { learningRate } from './lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from './sgd-update.ts';

/** The inner-optimizer keys of a DiLoCo-style local method (optimizers/diloco's, same meaning). */
export interface LocalPhaseConfig extends SgdHyperparameters {
  innerOptimizer: 'adamw' | 'sgd';
  betas: [number, number];
  eps: number;
  /** H (τ): inner steps between outer steps. */
  localSteps: number;
}

/**
 * One worker's state in a local method whose outer step it takes itself (eager-diloco, co2):
 * the outer parameters θ it last agreed on, the local parameters x its inner optimizer moves
 * (AdamW or SGD, state kept across outer steps), and the gradient buffer. The outer update is
 * the algorithm's own; this holds only what is common to both algorithms.
 */
export class LocalPhase {
  readonly outer: Float32Array;
  readonly local: Float32Array;
  private readonly grad: Float32Array;
  private readonly innerVelocity: Float32Array;
  private readonly adam: AdamW | null;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly cfg: LocalPhaseConfig,
  ) {
    const d = ctx.oracle.paramCount;
    this.outer = Float32Array.from(ctx.initialParams);
    this.local = Float32Array.from(ctx.initialParams);
    this.grad = new Float32Array(d);
    this.innerVelocity = new Float32Array(d);
    this.adam = cfg.innerOptimizer === 'adamw' ? new AdamW(d, cfg.betas[0], cfg.betas[1], cfg.eps, cfg.weightDecay) : null;
  }

  /** Inner step `step`: the gradient at x (advancing the worker's clock), then the inner optimizer. */
  innerStep(step: number): ComputedStep {
    const { ctx, cfg } = this;
    const computed = computeGradient(ctx, step, this.local, this.grad);
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    if (this.adam) this.adam.step(this.local, this.grad, lr);
    else sgdStep(this.local, this.grad, this.innerVelocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
    return computed;
  }

  /** This worker's outer gradient θ - x into `out`. */
  outerGradient(out: Float32Array): void {
    const { outer, local } = this;
    for (let i = 0; i < out.length; i++) out[i] = outer[i]! - local[i]!;
  }

  /** After the outer step: the next inner phase starts from θ. */
  restart(): void {
    this.local.set(this.outer);
  }
}
