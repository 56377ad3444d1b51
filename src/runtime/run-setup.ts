import type { LoadedConfig } from '../config/types.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { loadFashionMnist } from '../train/data/fashion-mnist.ts';
import { loadCsv } from '../train/data/csv.ts';
import { loadArrayFiles } from '../train/data/array-files.ts';
import { totalmem } from 'node:os';
import { partitionIndices, type PartitionSpec } from '../train/data/partition.ts';
import { makeSynthetic } from '../train/data/synthetic.ts';
import { loadMobyDick } from '../train/data/text.ts';
import { buildModel, type ModelDef, type ModelSpec } from '../train/models.ts';
import { pluginModelDef } from '../train/layers-model.ts';
import { modelPlugins, pluginDatasetKey, pluginDatasets } from '../config/plugin-cache.ts';
import { buildTopology, type Topology } from '../../topologies/index.ts';
import { NetworkModel } from '../sim/network-model.ts';
import { FaultSchedule } from '../sim/faults.ts';
import type { StragglerConfig } from '../sim/stragglers.ts';
import { WIRE_HEADER_BYTES } from '../../comm/transport/wire-codec.ts';
import { UserError } from '../util/user-error.ts';
import { Membership } from '../../optimizers/common/rejoin.ts';

/** Data set named by the config (Fashion-MNIST from disk, Moby-Dick from its npm package, or synthetic from the seed). */
export function loadDataset(lc: LoadedConfig): Dataset {
  const d = lc.config.data;
  if (d.module !== undefined) {
    // Loaded by loadPlugins / resolvePlugins (a module's load may be asynchronous).
    const ds = pluginDatasets.get(pluginDatasetKey(lc) ?? '');
    if (!ds) throw new Error(`data module ${d.module} was not loaded`);
    return ds;
  }
  // One file may take at most the run's memory budget (limits.memoryFraction), checked before reading.
  const maxBytes = Math.floor(totalmem() * lc.config.limits.memoryFraction);
  if (d.format === 'csv') return loadCsv({ train: d.train as string, test: d.test as string, labelColumn: d.labelColumn ?? -1, task: d.task ?? 'classification', maxBytes: Math.floor(maxBytes / 8) });
  if (d.format === 'npy' || d.format === 'idx') {
    const files = (v: typeof d.train) => v as { x: string; y: string };
    return loadArrayFiles({ format: d.format, train: files(d.train), test: files(d.test), task: d.task ?? 'classification', maxBytes });
  }
  if (d.dataset === 'fashion-mnist') return loadFashionMnist();
  if (d.dataset === 'moby-dick') {
    return loadMobyDick({ context: d.context, samples: d.samples, testSamples: d.testSamples, lowercase: d.lowercase, minCharCount: d.minCharCount }, lc.config.seed);
  }
  return makeSynthetic({ kind: d.dataset, samples: d.samples, testSamples: d.testSamples, features: d.features, classes: d.classes, noise: d.noise }, lc.config.seed);
}

export function modelSpecOf(lc: LoadedConfig): ModelSpec {
  const m = lc.config.model;
  switch (m.kind) {
    case 'mlp':
      return { kind: 'mlp', hidden: m.hidden };
    case 'cnn':
      return { kind: 'cnn', channels: m.channels, kernel: m.kernel };
    case 'char-lstm':
      return { kind: 'char-lstm', embed: m.embed, hidden: m.lstmHidden };
    default:
      return { kind: m.kind };
  }
}

export function modelOf(lc: LoadedConfig, ds: Dataset): ModelDef {
  const module = lc.plugins?.model;
  if (module) {
    const plugin = modelPlugins.get(module);
    if (!plugin) throw new Error(`model module ${module} was not loaded`);
    const { module: _m, ...options } = lc.config.model as unknown as Record<string, unknown>;
    try {
      return pluginModelDef(plugin, options, ds.inputShape, ds.classes);
    } catch (e) {
      throw new UserError(`model.module: ${module}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return buildModel(modelSpecOf(lc), ds.inputShape, ds.classes);
  } catch (e) {
    // Your own data can have any shape: a built-in model that cannot read it is an input error.
    if (lc.config.data.dataset !== undefined) throw e;
    throw new UserError(`${lc.file}: model.kind: ${(e as Error).message} (data of shape ${JSON.stringify(ds.inputShape)}, ${ds.classes === 0 ? 'regression' : `${ds.classes} classes`})`);
  }
}

export function partitionSpecOf(lc: LoadedConfig): PartitionSpec {
  const d = lc.config.data;
  if (d.partition === 'dirichlet') return { kind: 'dirichlet', alpha: d.alpha };
  if (d.partition === 'shards') return { kind: 'shards', shardsPerWorker: d.shardsPerWorker };
  return { kind: 'iid' };
}

export function shardsOf(lc: LoadedConfig, ds: Dataset): Int32Array[] {
  const labels = ds.classes > 0 ? (ds.train.y as Int32Array) : null;
  return partitionIndices(ds.train.n, labels, ds.classes, lc.config.workers, partitionSpecOf(lc), lc.config.seed);
}

/** The run's topology (pure data: links, routes, groups). */
export function topologyOf(lc: LoadedConfig): Topology {
  return buildTopology(lc.config.topology.kind, lc.config.workers, { bandwidth: lc.q.bandwidth, latency: lc.q.latency }, lc.topology);
}

export function networkOf(lc: LoadedConfig): NetworkModel {
  return new NetworkModel(topologyOf(lc), new FaultSchedule(lc.faults), lc.config.network.sharing);
}

export interface Preflight {
  model: ModelDef;
  shardSizes: number[];
}

/**
 * Everything that can be wrong with the inputs but only shows once the data is loaded: checked
 * by the coordinator before it creates the run directory, so bad input still exits 2 and leaves
 * nothing behind. Costs one data-set load (~0.2 s for Fashion-MNIST).
 */
export function preflight(lc: LoadedConfig): Preflight {
  const ds = loadDataset(lc);
  const model = modelOf(lc, ds);
  const shards = shardsOf(lc, ds);
  const c = lc.config;
  shards.forEach((s, w) => {
    if (s.length === 0) {
      throw new UserError(
        `${lc.file}: data.partition: worker ${w} gets no training samples with ${c.data.partition}` +
          (c.data.partition === 'dirichlet' ? ` (alpha ${c.data.alpha})` : '') +
          ` over ${c.workers} workers; expected every worker to get at least one (raise data.alpha or lower workers)`,
      );
    }
  });
  // The largest message is a whole fp32 model (a parameter-server reply, or a one-worker chunk).
  const need = model.size * 4 + WIRE_HEADER_BYTES;
  if (c.transport.kind === 'ws' && need > c.transport.maxMessageBytes) {
    throw new UserError(
      `${lc.file}: transport.maxMessageBytes: expected at least ${need} bytes for a model of ${model.size} parameters, found ${c.transport.maxMessageBytes}`,
    );
  }
  return { model, shardSizes: shards.map((s) => s.length) };
}

/** The straggler delay distribution of the config, quantities in seconds. */
export function stragglerDelayOf(lc: LoadedConfig): StragglerConfig['delay'] {
  const d = lc.config.stragglers.delay;
  const q = lc.q;
  switch (d.kind) {
    case 'none':
      return { kind: 'none' };
    case 'shifted-exponential':
      return { kind: 'shifted-exponential', shift: q.delayShift, mean: q.delayMean, workers: d.workers };
    case 'pareto':
      return { kind: 'pareto', scale: q.delayScale, shape: d.shape, workers: d.workers };
    case 'bimodal':
      return { kind: 'bimodal', p: d.p, slowDelay: q.delaySlow, fastDelay: q.delayFast, workers: d.workers };
  }
}

/** Who takes part in which step: the fault timeline's crashes, and rejoins decided by the master. */
export function membershipOf(lc: LoadedConfig, faults: FaultSchedule): Membership {
  return new Membership(lc.config.workers, lc.config.train.steps, faults.crashes());
}
