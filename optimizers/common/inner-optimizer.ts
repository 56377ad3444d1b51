import type { JsonSchema } from '../algorithm.ts';
import { diloco } from '../diloco/index.ts';

/** The keys of the inner optimizer that does not apply (AdamW's or SGD's), as DiLoCo states them. */
export function innerOptimizerInapplicable(o: { innerOptimizer: 'adamw' | 'sgd' }): Record<string, string> {
  return o.innerOptimizer === 'adamw'
    ? { momentum: 'with innerOptimizer adamw (it is an sgd key)', nesterov: 'with innerOptimizer adamw (it is an sgd key)' }
    : { betas: 'with innerOptimizer sgd (it is an adamw key)', eps: 'with innerOptimizer sgd (it is an adamw key)' };
}

/**
 * DiLoCo's inner-optimizer keys with its reference defaults (AdamW with torch's defaults, or SGD),
 * for the local methods that take them as they are (eager-diloco, co2).
 */
export function innerOptimizerOptions(): Record<'innerOptimizer' | 'lr' | 'betas' | 'eps' | 'weightDecay' | 'momentum' | 'nesterov' | 'schedule', JsonSchema> {
  const { innerOptimizer, lr, betas, eps, weightDecay, momentum, nesterov, schedule } = diloco.options;
  return { innerOptimizer: innerOptimizer!, lr: lr!, betas: betas!, eps: eps!, weightDecay: weightDecay!, momentum: momentum!, nesterov: nesterov!, schedule: schedule! };
}
