import type { JsonSchema } from '../algorithm.ts';
import { adamOptions, scheduleOption } from './options.ts';

/** The keys of the inner optimizer that does not apply (AdamW's or SGD's), as DiLoCo states them. */
export function innerOptimizerInapplicable(o: { innerOptimizer: 'adamw' | 'sgd' }): Record<string, string> {
  return o.innerOptimizer === 'adamw'
    ? { momentum: 'with innerOptimizer adamw (it is an sgd key)', nesterov: 'with innerOptimizer adamw (it is an sgd key)' }
    : { betas: 'with innerOptimizer sgd (it is an adamw key)', eps: 'with innerOptimizer sgd (it is an adamw key)' };
}

/**
 * DiLoCo's inner-optimizer keys with its reference defaults (torch.optim.AdamW with torch's
 * defaults, or SGD), shared by the local methods that take them as they are (diloco,
 * eager-diloco, co2).
 */
export function innerOptimizerOptions(): Record<'innerOptimizer' | 'lr' | 'betas' | 'eps' | 'weightDecay' | 'momentum' | 'nesterov' | 'schedule', JsonSchema> {
  return {
    innerOptimizer: { enum: ['adamw', 'sgd'], default: 'adamw', description: 'Inner optimizer: AdamW (lr, betas, eps, weightDecay), or SGD (lr, momentum, nesterov, weightDecay).' },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Inner learning rate (torch.optim.AdamW default 1e-3).' },
    ...adamOptions('adamw: '),
    weightDecay: { type: 'number', minimum: 0, default: 0.01, description: 'Inner weight decay: decoupled for adamw (torch default 1e-2), L2 for sgd.' },
    momentum: { type: 'number', minimum: 0, maximum: 1, exclusiveMaximum: 1, default: 0, description: 'sgd inner optimizer: heavy-ball momentum.' },
    nesterov: { type: 'boolean', default: false, description: 'sgd inner optimizer: Nesterov momentum.' },
    schedule: scheduleOption,
  };
}
