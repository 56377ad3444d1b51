import type { ScheduleSpec } from './lr-schedule.ts';

/** The SGD hyperparameters every optimizer's config shares (torch.optim.SGD + a schedule). */
export interface SgdHyperparameters {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: ScheduleSpec;
}

/**
 * In-place SGD step with torch.optim.SGD semantics (dampening 0):
 *   g <- g + wd * p;  v <- mu * v + g;  d = nesterov ? g + mu * v : v;  p <- p - lr * d
 */
export function sgdStep(params: Float32Array, grad: Float32Array, velocity: Float32Array, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void {
  const n = params.length;
  if (momentum !== 0 && weightDecay === 0 && !nesterov) {
    // The defaults' case (the quickstart's update) without the per-element tests, which V8 does
    // not hoist out of the loop: about 1.5x faster, the same operations in the same order.
    for (let i = 0; i < n; i++) {
      const v = momentum * velocity[i]! + grad[i]!;
      velocity[i] = v;
      params[i] = params[i]! - lr * v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let g = grad[i]!;
    if (weightDecay !== 0) g += weightDecay * params[i]!;
    if (momentum !== 0) {
      const v = momentum * velocity[i]! + g;
      velocity[i] = v;
      g = nesterov ? g + momentum * v : v;
    }
    params[i] = params[i]! - lr * g;
  }
}
