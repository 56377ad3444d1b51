import { Rng } from '../util/rng.ts';
import { delayFor } from './straggler-distributions.ts';

export interface StragglerConfig {
  /** Constant per-worker slowdown factors (compute time is multiplied by the factor). */
  slow: { worker: number; factor: number }[];
  /** Random extra delay added to each compute step. */
  delay:
    | { kind: 'none' }
    | { kind: 'shifted-exponential'; shift: number; mean: number; workers?: number[] | undefined }
    | { kind: 'pareto'; scale: number; shape: number; workers?: number[] | undefined }
    | { kind: 'bimodal'; p: number; slowDelay: number; fastDelay: number; workers?: number[] | undefined };
}

/**
 * Straggler model v1. The random delay of (worker, step) is drawn from its own seeded stream, so
 * it is the same whatever process runs the worker and whatever else was drawn before.
 */
export class StragglerModel {
  private readonly factors = new Map<number, number>();

  constructor(
    private readonly cfg: StragglerConfig,
    private readonly seed: number,
  ) {
    for (const s of cfg.slow) this.factors.set(s.worker, (this.factors.get(s.worker) ?? 1) * s.factor);
  }

  slowdown(worker: number): number {
    return this.factors.get(worker) ?? 1;
  }

  /** Extra delay (s) injected into `worker`'s compute at `step`. */
  delay(worker: number, step: number): number {
    const d = this.cfg.delay;
    if (d.kind === 'none') return 0;
    if (d.workers && !d.workers.includes(worker)) return 0;
    if (d.kind !== 'shifted-exponential') return delayFor(d, this.seed, worker, step);
    if (d.mean === 0) return d.shift;
    return d.shift + new Rng(this.seed, 'straggler-delay', worker, step).exponential(d.mean);
  }
}
