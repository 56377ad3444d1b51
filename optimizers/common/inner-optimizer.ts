/** The keys of the inner optimizer that does not apply (AdamW's or SGD's), as DiLoCo states them. */
export function innerOptimizerInapplicable(o: { innerOptimizer: 'adamw' | 'sgd' }): Record<string, string> {
  return o.innerOptimizer === 'adamw'
    ? { momentum: 'with innerOptimizer adamw (it is an sgd key)', nesterov: 'with innerOptimizer adamw (it is an sgd key)' }
    : { betas: 'with innerOptimizer sgd (it is an adamw key)', eps: 'with innerOptimizer sgd (it is an adamw key)' };
}
