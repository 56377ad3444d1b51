import type { CompressorPlugin } from '../../comm/compress/plugin.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import type { ModelPlugin } from '../train/layers-model.ts';
import type { DatasetPlugin } from '../train/data/dataset-plugin.ts';
import type { Dataset } from '../train/data/dataset.ts';
import type { LoadedConfig } from './types.ts';

/*
 * Plugin modules imported in this process, by absolute path. The config loader validates a
 * plugin's options against the schema its module declares once the module is here
 * (src/config/plugins.ts imports it); the runtime finds the algorithm here by path.
 */
export const algorithmPlugins = new Map<string, Algorithm<OptimizerConfig>>();
export const compressorPlugins = new Map<string, CompressorPlugin>();
export const modelPlugins = new Map<string, ModelPlugin>();
export const datasetPlugins = new Map<string, DatasetPlugin>();
/** Data sets a data module returned in this process, by module, options and seed (loadDataset reads them). */
export const pluginDatasets = new Map<string, Dataset>();

/** Where a data module's data set is cached in this process: its module, options and the seed. */
export function pluginDatasetKey(lc: LoadedConfig): string | null {
  const m = lc.plugins?.data;
  if (!m) return null;
  return JSON.stringify([m, lc.config.seed, pluginDatasetOptions(lc)]);
}

/** The data module's own options (the data block less module and the keys every data set has). */
export function pluginDatasetOptions(lc: LoadedConfig): Record<string, unknown> {
  const { module: _m, partition: _p, alpha: _a, shardsPerWorker: _s, batchSize: _b, ...options } = lc.config.data as unknown as Record<string, unknown>;
  return options;
}

