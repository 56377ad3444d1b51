/*
 * The algorithm layer's entry points: the Algorithm interface, the registry, and the algorithm
 * of a config (a registered kind or a loaded plugin).
 */
import type { Algorithm, OptimizerConfig } from './algorithm.ts';
import { builtInAlgorithm, ALGORITHM_KINDS } from './registry.ts';

export type { Algorithm, OptimizerConfig, MasterContext, RuleContext } from './algorithm.ts';
export { defineAlgorithm } from './algorithm.ts';
export { builtInAlgorithm, builtInAlgorithms } from './registry.ts';

export const OPTIMIZER_KINDS: readonly string[] = ALGORITHM_KINDS;

/** The algorithm of a config: a registered kind, or the plugin module already loaded into it. */
export function algorithmOf(cfg: OptimizerConfig, plugin: Algorithm<OptimizerConfig> | null = null): Algorithm<OptimizerConfig> {
  if (plugin) return plugin;
  const a = builtInAlgorithm(cfg.kind);
  if (!a) throw new Error(`unknown optimizer.kind ${cfg.kind}`);
  return a;
}
