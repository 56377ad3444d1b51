import type { StragglerModel } from './stragglers.ts';

/**
 * Modelled compute time of one gradient step: forward + backward ~ 3x the forward FLOPs,
 * divided by the worker's speed, times its slowdown, plus its injected delay.
 */
export class ComputeTimeModel {
  constructor(
    private readonly flopsPerSample: number,
    /** FLOP/s of one worker. */
    private readonly speed: number,
    private readonly stragglers: StragglerModel,
  ) {}

  /** Seconds of compute without stragglers for a batch. */
  baseStepTime(batch: number): number {
    return (3 * this.flopsPerSample * batch) / this.speed;
  }

  stepTime(worker: number, step: number, batch: number): { compute: number; delay: number } {
    return {
      compute: this.baseStepTime(batch) * this.stragglers.slowdown(worker),
      delay: this.stragglers.delay(worker, step),
    };
  }
}
