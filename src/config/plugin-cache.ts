import type { CompressorPlugin } from '../../comm/compress/plugin.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import type { ModelPlugin } from '../train/layers-model.ts';

/*
 * Plugin modules imported in this process, by absolute path. The config loader validates a
 * plugin's options against the schema its module declares once the module is here
 * (src/config/plugins.ts imports it); the runtime finds the algorithm here by path.
 */
export const algorithmPlugins = new Map<string, Algorithm<OptimizerConfig>>();
export const compressorPlugins = new Map<string, CompressorPlugin>();
export const modelPlugins = new Map<string, ModelPlugin>();
