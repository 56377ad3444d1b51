import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import { algorithmPlugins } from '../config/plugin-cache.ts';
import { importPlugins, loadPluginDataset } from '../config/plugins.ts';
import type { LoadedConfig } from '../config/types.ts';

/** Import the plugin modules a config names into this process (coordinator or worker process). */
export async function loadPlugins(lc: LoadedConfig): Promise<void> {
  await importPlugins(lc);
  await loadPluginDataset(lc);
}

/** The plugin algorithm of a config whose plugins were loaded, or null for a built-in kind. */
export function pluginAlgorithm(lc: LoadedConfig): Algorithm<OptimizerConfig> | null {
  const path = lc.plugins?.algorithm;
  return path ? (algorithmPlugins.get(path) ?? null) : null;
}
