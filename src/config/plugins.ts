import { dirname, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { registerCompressorPlugin, type CompressorPlugin } from '../../comm/compress/plugin.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { loadConfigText } from './load.ts';
import { algorithmPlugins, compressorPlugins, datasetPlugins, modelPlugins, pluginDatasetKey, pluginDatasetOptions, pluginDatasets } from './plugin-cache.ts';
import { datasetFromPlugin, type DatasetPlugin } from '../train/data/dataset-plugin.ts';
import type { ModelPlugin } from '../train/layers-model.ts';
import type { LoadedConfig } from './types.ts';

/*
 * Plugins named by an experiment: `optimizer: { module: ./my-algorithm.ts, ... }` (an Algorithm,
 * made with defineAlgorithm) and `compressor: { module: ./my-compressor.ts, ... }` (made with
 * defineCompressor). Paths are relative to the experiment file (config.yaml holds them absolute).
 * Each module is imported once per process (coordinator and every worker process), checked,
 * and the config is validated again with the module's own option schema, so a plugin's keys get
 * the same located one-line errors and defaults as a built-in's.
 */

function shown(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : `./${r}`;
}

async function importModule(key: string, file: string): Promise<Record<string, unknown>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${key}: cannot load ${shown(file)} (${(e as Error).message.split('\n')[0]})`);
  }
  // Outside an ESM package the module is compiled as CommonJS: its exports sit one level down.
  const d = mod['default'];
  if (d !== null && typeof d === 'object' && 'default' in (d as object) && !('worker' in (d as object)) && !('create' in (d as object))) {
    mod = d as Record<string, unknown>;
  }
  return mod;
}

const isFn = (v: unknown) => typeof v === 'function';
const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkAlgorithm(file: string, a: unknown): Algorithm<OptimizerConfig> {
  const where = `optimizer.module: ${shown(file)}`;
  if (!isObj(a)) throw new UserError(`${where}: expected a default export made with defineAlgorithm({ kind, options, toleratesCrash, worker }), found ${a === undefined ? 'no default export' : typeof a}`);
  const o = a as Record<string, unknown>;
  const missing = ['kind', 'options', 'toleratesCrash', 'worker'].filter((k) => (k === 'kind' ? typeof o[k] !== 'string' : k === 'options' ? !isObj(o[k]) : !isFn(o[k])));
  if (missing.length > 0) throw new UserError(`${where}: expected a default export made with defineAlgorithm({ kind, options, toleratesCrash, worker }), found one without ${missing.join(', ')}`);
  return wrapAlgorithm(file, a as Algorithm<OptimizerConfig>);
}

/** A plugin's failures during the run name its module (one line, exit 1). */
function wrapAlgorithm(file: string, a: Algorithm<OptimizerConfig>): Algorithm<OptimizerConfig> {
  const named = (e: unknown): never => {
    if (e instanceof RunError || e instanceof UserError) throw e;
    throw new RunError(`optimizer.module ${shown(file)} failed: ${(e as Error)?.message ?? String(e)}`);
  };
  return {
    ...a,
    worker: (ctx, cfg) => a.worker(ctx, cfg).catch(named),
    ...(a.master ? { master: (m, cfg) => a.master!(m, cfg).catch(named) } : {}),
  };
}

function checkCompressor(file: string, p: unknown): CompressorPlugin {
  const where = `optimizer.compressor.module: ${shown(file)}`;
  if (!isObj(p) || !isFn((p as Record<string, unknown>)['create'])) {
    throw new UserError(`${where}: expected a default export made with defineCompressor({ name, options, create }), found ${p === undefined ? 'no default export' : typeof p}`);
  }
  const c = p as CompressorPlugin;
  if (c.options !== undefined && !isObj(c.options)) throw new UserError(`${where}: expected options to be a mapping of JSON Schema properties`);
  return c;
}

function checkModel(file: string, p: unknown): ModelPlugin {
  const where = `model.module: ${shown(file)}`;
  if (!isObj(p) || !isFn((p as Record<string, unknown>)['build'])) {
    throw new UserError(`${where}: expected a default export made with defineModel({ options, build }), found ${p === undefined ? 'no default export' : typeof p}`);
  }
  return p as ModelPlugin;
}

function checkDataset(file: string, p: unknown): DatasetPlugin {
  const where = `data.module: ${shown(file)}`;
  if (!isObj(p) || !isFn((p as Record<string, unknown>)['load'])) {
    throw new UserError(`${where}: expected a default export made with defineDataset({ options, load }), found ${p === undefined ? 'no default export' : isObj(p) ? 'one without load' : typeof p}`);
  }
  return p as DatasetPlugin;
}

/**
 * Run the data module's `load` (once per process, options and seed) and check what it returns;
 * loadDataset then finds the data set here. Its failures name the module (exit 2: the data are input).
 */
export async function loadPluginDataset(lc: LoadedConfig): Promise<void> {
  const m = lc.plugins?.data;
  const key = pluginDatasetKey(lc);
  if (!m || !key || pluginDatasets.has(key)) return;
  const p = datasetPlugins.get(m);
  if (!p) throw new Error(`data module ${m} was not imported`);
  const where = `data.module: ${shown(m)}`;
  let arrays: unknown;
  try {
    arrays = await p.load({ options: pluginDatasetOptions(lc), seed: lc.config.seed, dir: dirname(lc.file) });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: load failed: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}`);
  }
  pluginDatasets.set(key, datasetFromPlugin(arrays, where));
}

/**
 * The compressor must round-trip: decode writes every element of its output and decodeAdd adds
 * what decode gives. Checked on a seeded vector before anything runs (a wrong length is an input
 * error, exit 2, not a corrupted run).
 */
function probeCompressor(file: string, p: CompressorPlugin, options: Record<string, unknown>): void {
  const where = `optimizer.compressor.module: ${shown(file)}`;
  const d = 1000;
  const x = new Float32Array(d);
  let s = 12345;
  const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < d; i++) x[i] = uniform() * 2 - 1;
  try {
    const c = p.create(options);
    const payload = c.encode(x, uniform);
    if (!(payload instanceof Uint8Array)) throw new Error(`encode returned ${typeof payload}, expected a Uint8Array`);
    const out = new Float32Array(d).fill(Number.NaN);
    c.decode(payload, out);
    const written = out.reduce((n, v) => n + (Number.isNaN(v) ? 0 : 1), 0);
    if (written !== d) throw new Error(`decode wrote ${written} of ${d} values (expected one per element of the encoded vector)`);
    const acc = new Float32Array(d);
    c.decodeAdd(payload, acc, 1);
    const bad = acc.findIndex((v, i) => v !== out[i]);
    if (bad >= 0) throw new Error(`decodeAdd(payload, zeros, 1) differs from decode at element ${bad} (${acc[bad]} vs ${out[bad]})`);
  } catch (e) {
    throw new UserError(`${where}: ${(e as Error).message}`);
  }
}

/** Import the plugin modules a config names into this process (idempotent). */
export async function importPlugins(lc: LoadedConfig): Promise<void> {
  const a = lc.plugins?.algorithm;
  if (a && !algorithmPlugins.has(a)) {
    const mod = await importModule('optimizer.module', a);
    algorithmPlugins.set(a, checkAlgorithm(a, mod['default'] ?? mod['algorithm']));
  }
  const m = lc.plugins?.model;
  if (m && !modelPlugins.has(m)) {
    const mod = await importModule('model.module', m);
    modelPlugins.set(m, checkModel(m, mod['default'] ?? mod['model']));
  }
  const dm = lc.plugins?.data;
  if (dm && !datasetPlugins.has(dm)) {
    const mod = await importModule('data.module', dm);
    datasetPlugins.set(dm, checkDataset(dm, mod['default'] ?? mod['dataset']));
  }
  const c = lc.plugins?.compressor;
  if (c && !compressorPlugins.has(c)) {
    const mod = await importModule('optimizer.compressor.module', c);
    const p = checkCompressor(c, mod['default'] ?? mod['compressor']);
    compressorPlugins.set(c, p);
    registerCompressorPlugin(c, p);
  }
}

/**
 * A config whose plugins are imported, checked and validated (the config is reloaded with the
 * modules' option schemas; a config without plugins is returned as is).
 */
export async function resolvePlugins(lc: LoadedConfig): Promise<LoadedConfig> {
  if (!lc.plugins) return lc;
  await importPlugins(lc);
  const full = loadConfigText(lc.file, lc.src, { sets: lc.sets });
  const c = full.plugins?.compressor;
  if (c) {
    const { module: _m, ...options } = full.config.optimizer['compressor'] as Record<string, unknown>;
    probeCompressor(c, compressorPlugins.get(c)!, options);
  }
  await loadPluginDataset(full);
  return full;
}
