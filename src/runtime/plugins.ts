import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import type { LoadedConfig } from '../config/types.ts';

/*
 * Plugin modules named by the experiment (optimizer: { module }, compressor: { module }, ...),
 * loaded once per process (coordinator and every worker process) before the run. Filled in by
 * src/config/plugins.ts; until then no config names a plugin.
 */
const algorithms = new Map<string, Algorithm<OptimizerConfig>>();

/** Load the plugin modules a config names (idempotent). */
export async function loadPlugins(_lc: LoadedConfig): Promise<void> {}

/** The plugin algorithm of a config whose plugins were loaded, or null for a built-in kind. */
export function pluginAlgorithm(lc: LoadedConfig): Algorithm<OptimizerConfig> | null {
  const path = lc.plugins?.algorithm;
  return path ? (algorithms.get(path) ?? null) : null;
}
