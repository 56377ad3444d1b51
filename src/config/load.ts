import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { UserError } from '../util/user-error.ts';
import { backendPackage, isInstalled } from '../train/backend.ts';
import { parseQuantity, type QuantityKind } from './quantities.ts';
import { buildTopology, type TopologyOptions } from '../../topologies/index.ts';
import { resolveMixingSource } from './mixing-source.ts';
import { topologyOptionsOf } from './topology-options.ts';
import { gossipNeighbours } from '../../topologies/neighbours.ts';
import type { Fault, When } from '../sim/faults.ts';
import { checkByzantineTimeline, parseByzantineFault } from './byzantine-faults.ts';
import { experimentSchema, experimentSchemaFor, optimizerSchemaFor } from './schema.ts';
import type { CompressorPlugin } from '../../comm/compress/plugin.ts';
import { algorithmPlugins, compressorPlugins, datasetPlugins, modelPlugins } from './plugin-cache.ts';
import type { ModelPlugin } from '../train/layers-model.ts';
import type { DatasetPlugin } from '../train/data/dataset-plugin.ts';
import { estimateMemory, estimateParams, formatBytes, readConfigFile, YAML_MAX_ALIASES } from './limits.ts';
import { WIRE_HEADER_BYTES } from '../../comm/transport/wire-codec.ts';
import type { ExperimentConfig, LoadedConfig, Quantities } from './types.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import { builtInAlgorithm, builtInAlgorithms } from '../../optimizers/registry.ts';

type Path = (string | number)[];

// strictNumbers: `.inf` and `.nan` are not numbers to any key (lr, weightDecay, a slow factor...).
const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false, strictNumbers: true });
type Schema = Record<string, unknown>;
interface Validator {
  schema: Schema;
  validate: ValidateFunction;
}
// Schemas are compiled on first use: each ajv.compile costs ~0.1 s of CPU, and most processes
// (every worker, every CLI run) need only their algorithm's.
let baseValidator: Validator | undefined;
const validators = new Map<Algorithm<OptimizerConfig>, Validator>();

/**
 * The schema a config is validated against: the experiment's, with the optimizer block of the
 * algorithm it names (only that algorithm's keys, with its defaults). A kind that names no
 * algorithm is reported by the base schema's enum.
 */
function validatorFor(a: Algorithm<OptimizerConfig> | null): Validator {
  if (!a) return (baseValidator ??= { schema: experimentSchema as unknown as Schema, validate: ajv.compile(experimentSchema as unknown as Schema) });
  let v = validators.get(a);
  if (!v) {
    const schema = experimentSchemaFor(a);
    v = { schema, validate: ajv.compile(schema) };
    validators.set(a, v);
  }
  return v;
}

function algorithmNamed(data: unknown): Algorithm<OptimizerConfig> | null {
  const kind = (data as { optimizer?: { kind?: unknown } }).optimizer?.kind;
  return typeof kind === 'string' ? (builtInAlgorithm(kind) ?? null) : null;
}

/** Stands in for a plugin algorithm whose module is not imported yet (resolvePlugins validates again). */
const PENDING_PLUGIN: Algorithm<OptimizerConfig> = {
  kind: '(plugin)',
  description: '',
  options: {},
  toleratesCrash: () => true,
  worker: () => Promise.reject(new Error('plugin algorithm not loaded')),
};
const lenient = (data: boolean): Validator => {
  const relaxed = { model: { type: 'object' }, optimizer: { type: 'object' }, ...(data ? { data: { type: 'object' } } : {}) };
  const schema = { ...experimentSchema, properties: { ...experimentSchema.properties, ...relaxed } } as unknown as Schema;
  return { schema, validate: ajv.compile(schema) };
};
let lenientValidator: Validator | undefined;
/** With a data module not imported yet: its options are unknown, so the data block is too. */
let lenientDataValidator: Validator | undefined;
const pluginValidators = new Map<string, Validator>();

/** The schema of a config with plugins: the plugin algorithm's options and/or the plugin compressor's. */
function pluginValidator(
  a: Algorithm<OptimizerConfig>,
  aPath: string | undefined,
  c: CompressorPlugin | null,
  cPath: string | undefined,
  m: ModelPlugin | null,
  mPath: string | undefined,
  d: DatasetPlugin | null = null,
  dPath: string | undefined = undefined,
): Validator {
  const key = `${aPath ?? a.kind}|${cPath ?? ''}|${mPath ?? ''}|${dPath ?? ''}`;
  let v = pluginValidators.get(key);
  if (v) return v;
  const opt = optimizerSchemaFor(a) as { properties: Record<string, unknown>; required: string[] } & Schema;
  const properties: Record<string, unknown> = { ...opt.properties };
  let required = opt.required;
  if (aPath) {
    properties['module'] = { type: 'string', description: 'The algorithm module (path relative to the experiment file).' };
    properties['kind'] = { const: a.kind, description: `The module's kind (${a.kind}).` };
    required = required.filter((k) => k !== 'kind');
  }
  if (c && cPath && 'compressor' in a.options) {
    properties['compressor'] = {
      type: 'object',
      additionalProperties: false,
      required: ['module'],
      properties: { module: { type: 'string', description: 'The compressor module.' }, ...(c.options ?? {}) },
    };
  }
  const model =
    m && mPath
      ? { type: 'object', additionalProperties: false, required: ['module'], properties: { module: { type: 'string', description: 'The model module.' }, ...(m.options ?? {}) } }
      : experimentSchema.properties.model;
  // A data module: its options beside `module`, and the keys every data set has (partition, batch size).
  const builtInData = experimentSchema.properties.data as unknown as { properties: Record<string, unknown> };
  const data =
    d && dPath
      ? {
          type: 'object',
          additionalProperties: false,
          required: ['module'],
          properties: {
            ...Object.fromEntries(['module', 'partition', 'alpha', 'shardsPerWorker', 'batchSize'].map((k) => [k, builtInData.properties[k]])),
            ...(d.options ?? {}),
          },
        }
      : experimentSchema.properties.data;
  const schema = { ...experimentSchema, properties: { ...experimentSchema.properties, model, data, optimizer: { ...opt, properties, required } } } as unknown as Schema;
  v = { schema, validate: ajv.compile(schema) };
  pluginValidators.set(key, v);
  return v;
}

/**
 * Plugin module paths (`optimizer.module`, `optimizer.compressor.module`): resolved against the
 * experiment file's directory, checked to exist, and written back absolute (config.yaml too).
 */
function pluginPaths(loc: Locator, file: string, data: Record<string, unknown>): { algorithm?: string; compressor?: string; model?: string; data?: string } {
  const out: { algorithm?: string; compressor?: string; model?: string; data?: string } = {};
  const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const at = (obj: Record<string, unknown>, path: Path, what: 'algorithm' | 'compressor' | 'model' | 'data'): void => {
    const m = obj['module'];
    if (m === undefined) return;
    if (typeof m !== 'string') throw new UserError(`${loc.where(path)}: ${path.join('.')}: expected a path to a JS/TS module, found ${describe(m)}`);
    const abs = resolvePath(dirname(resolvePath(file)), m);
    if (!existsSync(abs)) throw new UserError(`${loc.where(path)}: ${path.join('.')}: expected a JS/TS module, found no file ${abs}`);
    obj['module'] = abs;
    out[what] = abs;
  };
  if (isMapping(data['model'])) at(data['model'], ['model', 'module'], 'model');
  if (isMapping(data['data'])) at(data['data'], ['data', 'module'], 'data');
  const o = data['optimizer'];
  if (!isMapping(o)) return out;
  at(o as Record<string, unknown>, ['optimizer', 'module'], 'algorithm');
  const c = (o as Record<string, unknown>)['compressor'];
  if (c !== null && typeof c === 'object' && !Array.isArray(c)) at(c as Record<string, unknown>, ['optimizer', 'compressor', 'module'], 'compressor');
  return out;
}

/** Levenshtein distance, for did-you-mean suggestions. */
function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}

function didYouMean(word: string, options: string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

/** Schema node at a path (to list allowed keys). */
function schemaAtRoot(root: Schema, path: Path): Record<string, unknown> | null {
  let s: Record<string, unknown> = root;
  for (const p of path) {
    if (typeof p === 'number') s = s['items'] as Record<string, unknown>;
    else s = (s['properties'] as Record<string, Record<string, unknown>> | undefined)?.[p] as Record<string, unknown>;
    if (!s) return null;
  }
  return s;
}

class Locator {
  private readonly lc = new LineCounter();
  readonly doc: Document;
  readonly setPaths = new Set<string>();
  /** Where an override came from when it is not the command line (a sweep's grid entry). */
  setOrigins: Record<string, string> = {};
  /** Fault entries from index `from` on were generated by `source` (a fault module). */
  generated: { from: number; source: string } | null = null;

  constructor(
    readonly file: string,
    src: string,
  ) {
    this.doc = parseDocument(src, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
  }

  /** Whether the user wrote the key at `path` (in the file or by --set), as opposed to a default. */
  written(path: Path): boolean {
    // --set edits the document, so the document says it all.
    return this.doc.hasIn(path);
  }

  at(offset: number): string {
    return `${this.file}:${this.pos(offset)}`;
  }

  private pos(offset: number): string {
    const { line, col } = this.lc.linePos(offset);
    return `${line}:${col}`;
  }

  /** "file:line:col" of the value at `path` (or of its key, or of the nearest existing parent). */
  where(path: Path, keyName?: string): string {
    const dotted = [...path, ...(keyName !== undefined ? [keyName] : [])].join('.');
    const g = this.generated;
    // A generated entry: where the config names the module, then the module and the entry.
    if (g && path[0] === 'faults' && typeof path[1] === 'number' && path[1] >= g.from) return `${this.where(['faultsModule'])}: ${g.source}: timeline()[${path[1] - g.from}]`;
    for (const sp of this.setPaths) if (dotted === sp || dotted.startsWith(sp + '.')) return this.setOrigins[sp] ?? `--set ${sp}`;
    if (keyName !== undefined) {
      const parent = this.doc.getIn(path, true) as Node | undefined;
      if (parent && isMap(parent)) {
        for (const item of parent.items) {
          if (isScalar(item.key) && String(item.key.value) === keyName && item.key.range) return `${this.file}:${this.pos(item.key.range[0])}`;
        }
      }
      // Not in the file: a --set under it made it (`--set optimzer.lr=1` names the flag, not the file).
      for (const sp of this.setPaths) if (sp.startsWith(dotted + '.')) return this.setOrigins[sp] ?? `--set ${sp}`;
    }
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && node.range) {
        if (n < path.length || !isMap(node) || path.length === 0) {
          // For a missing child, point at the parent's key if we can find it.
          return `${this.file}:${this.pos(node.range[0])}`;
        }
        return `${this.file}:${this.pos(node.range[0])}`;
      }
    }
    return `${this.file}:1:1`;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  // Long strings are cut: an error line stays one short line (no pasted file, no binary dump).
  if (typeof v === 'string') return v.length > 60 ? `${JSON.stringify(v.slice(0, 40))}... (${v.length} characters)` : JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && !Number.isFinite(v)) return `${String(v)} (not a finite number)`;
  return `${typeof v} ${String(v)}`;
}

function pathOf(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(obj: unknown, path: Path): unknown {
  let v: unknown = obj;
  for (const p of path) v = v == null ? undefined : (v as Record<string | number, unknown>)[p];
  return v;
}

function schemaError(loc: Locator, data: unknown, err: ErrorObject, root: Schema): UserError {
  const schemaAt = (p: Path) => schemaAtRoot(root, p);
  const path = pathOf(err.instancePath);
  const found = valueAt(data, path);
  const key = (p: Path) => (p.length ? p.join('.') : '(top level)');
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((schemaAt(path)?.['properties'] as object) ?? {});
      const kind = (data as { optimizer?: { kind?: string } }).optimizer?.kind;
      if (path.length === 1 && path[0] === 'optimizer' && kind !== undefined) {
        // A key of another algorithm, or of none: name the ones that apply to this one.
        const elsewhere = builtInAlgorithms().filter((a) => Object.hasOwn(a.options, extra)).map((a) => a.kind);
        const what = elsewhere.length > 0 ? `does not apply to optimizer.kind ${kind} (it is a key of ${elsewhere.join(', ')})` : `unknown key${didYouMean(extra, allowed)}`;
        return new UserError(`${loc.where(path, extra)}: optimizer.${extra}: ${what}; the keys that apply to ${kind} are ${allowed.join(', ')}`);
      }
      return new UserError(
        `${loc.where(path, extra)}: ${key([...path, extra])}: unknown key${didYouMean(extra, allowed)}; expected one of ${allowed.join(', ')}`,
      );
    }
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      return new UserError(`${loc.where(path)}: ${key([...path, missing])}: required key is missing`);
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const hint = typeof found === 'string' ? didYouMean(found, allowed) : '';
      return new UserError(`${loc.where(path)}: ${key(path)}: expected one of ${allowed.join(', ')}, found ${describe(found)}${hint}`);
    }
    case 'type': {
      const qk = schemaAt(path)?.['x-quantity'];
      if (typeof qk === 'string') {
        return new UserError(`${loc.where(path)}: ${key(path)}: ${parseQuantity(qk as QuantityKind, found)}`);
      }
      // ajv reports a list of types as "integer,string" (the fault timeline's steps-or-time keys).
      const types = String((err.params as { type: string | string[] }).type);
      const one = (t: string) => (t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `${t === 'integer' ? 'an' : 'a'} ${t}`);
      const expected = types === 'integer,string' ? 'a number of steps or a time with units' : types.split(',').map(one).join(' or ');
      return new UserError(`${loc.where(path)}: ${key(path)}: expected ${expected}, found ${describe(found)}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = err.params as { comparison: string; limit: number };
      return new UserError(`${loc.where(path)}: ${key(path)}: expected a number ${p.comparison} ${p.limit}, found ${describe(found)}`);
    }
    case 'maxLength':
    case 'minLength': {
      const limit = (err.params as { limit: number }).limit;
      return new UserError(`${loc.where(path)}: ${key(path)}: expected ${err.keyword === 'maxLength' ? 'at most' : 'at least'} ${limit} characters, found ${describe(found)}`);
    }
    default:
      return new UserError(`${loc.where(path)}: ${key(path)}: expected a value that ${err.message ?? 'is valid'}, found ${describe(found)}`);
  }
}

/** Parse every `x-quantity` string in the config, reporting the first bad one with its place. */
function parseQuantities(loc: Locator, c: ExperimentConfig, algorithm: Algorithm<OptimizerConfig>): Quantities {
  const get = (kind: QuantityKind, path: Path): number => {
    const v = parseQuantity(kind, valueAt(c, path));
    if (typeof v === 'string') throw new UserError(`${loc.where(path)}: ${path.join('.')}: ${v}`);
    return v;
  };
  return {
    bandwidth: get('bandwidth', ['network', 'bandwidth']),
    latency: get('time', ['network', 'latency']),
    speed: get('flops', ['compute', 'speed']),
    heartbeatTimeout: get('time', ['transport', 'heartbeatTimeout']),
    startupTimeout: get('time', ['transport', 'startupTimeout']),
    delayShift: get('time', ['stragglers', 'delay', 'shift']),
    delayMean: get('time', ['stragglers', 'delay', 'mean']),
    delayScale: get('time', ['stragglers', 'delay', 'scale']),
    delaySlow: get('time', ['stragglers', 'delay', 'slow']),
    delayFast: get('time', ['stragglers', 'delay', 'fast']),
    optimizer: Object.fromEntries((algorithm.quantities ?? []).filter((k) => c.optimizer[k] !== undefined).map((k) => [k, get('time', ['optimizer', k])])),
  };
}

/** Rules that involve several keys. */
/**
 * `topologyOptions` builds topology.* once, on first use (gossip rules and mixing: graph need it
 * here; the loader needs it after): a links file is read, and the topology checked, once.
 */
function crossChecks(loc: Locator, c: ExperimentConfig, q: Quantities, algorithm: Algorithm<OptimizerConfig>, topologyOptions: () => TopologyOptions, timeOnly = false): void {
  const fail = (path: Path, msg: string) => {
    throw new UserError(`${loc.where(path)}: ${path.join('.')}: ${msg}`);
  };
  if (c.workers > c.limits.maxWorkers) fail(['workers'], `expected at most limits.maxWorkers (${c.limits.maxWorkers}) workers, found ${c.workers}; raise limits.maxWorkers if you mean it`);
  if (c.train.steps > c.limits.maxSteps) fail(['train', 'steps'], `expected at most limits.maxSteps (${c.limits.maxSteps}) steps, found ${c.train.steps}; raise limits.maxSteps if you mean it`);
  // Your own data or model: sizes are known once loaded (preflight checks the message size then).
  const estimable = c.data.format === undefined && c.data.module === undefined && c.model.module === undefined;
  if (estimable) checkMemory(loc, timeOnly ? timeOnlyFootprint(c) : c);
  if (c.transport.kind === 'ws' && estimable) {
    // The largest message is a whole fp32 model (a parameter-server reply, a one-worker chunk).
    const need = estimateParams(c) * 4 + WIRE_HEADER_BYTES;
    if (need > c.transport.maxMessageBytes) {
      fail(['transport', 'maxMessageBytes'], `expected at least ${need} bytes for a model of ${estimateParams(c)} parameters (one fp32 model per message), found ${c.transport.maxMessageBytes}`);
    }
  }
  c.stragglers.slow.forEach((s, i) => {
    if (s.worker >= c.workers) fail(['stragglers', 'slow', i, 'worker'], `expected a worker rank below workers (${c.workers}), found ${s.worker}`);
  });
  for (const [i, w] of (c.stragglers.delay.workers ?? []).entries()) {
    if (w >= c.workers) fail(['stragglers', 'delay', 'workers', i], `expected a worker rank below workers (${c.workers}), found ${w}`);
  }
  // A native backend that is not installed here, where the workers run (in process or spawned;
  // remote workers may have it): an input error now, before any run directory exists.
  const pkg = backendPackage(c.backend);
  if (pkg && (c.transport.kind === 'inproc' || c.transport.spawn) && !isInstalled(pkg)) {
    fail(['backend'], `expected a backend installed here, found ${c.backend} without ${pkg} (README "GPU and native backends" says how to install it; backend: auto uses the fastest one present)`);
  }
  if (q.heartbeatTimeout < 1) fail(['transport', 'heartbeatTimeout'], `expected at least 1 s, found "${c.transport.heartbeatTimeout}"`);
  // 0 s would fail every worker process at the first liveness check, before it could be ready.
  if (q.startupTimeout < 1) fail(['transport', 'startupTimeout'], `expected at least 1 s, found "${c.transport.startupTimeout}"`);
  if (c.transport.processes !== undefined && c.transport.processes > c.workers) {
    fail(['transport', 'processes'], `expected at most workers (${c.workers}) processes, found ${c.transport.processes}`);
  }
  const o = c.optimizer;
  // Keys of the algorithm that do not apply given its other keys: defaults dropped, written ones rejected.
  for (const [key, why] of Object.entries(algorithm.inapplicable?.(o) ?? {})) {
    if (o[key] === undefined) continue;
    if (loc.written(['optimizer', key])) fail(['optimizer', key], `does not apply ${why}`);
    delete o[key];
  }
  // A gossip W given by reference (mixing: graph, { file }) becomes the explicit { weights } first.
  resolveMixingSource(c, loc.file, (path) => loc.where(path), topologyOptions);
  algorithm.rules?.(o, {
    workers: c.workers,
    topology: c.topology.kind,
    steps: c.train.steps,
    model: c.model.kind,
    data: { dataset: c.data.dataset, format: c.data.format, task: c.data.task, samples: c.data.samples, features: c.data.features },
    memory: ruleMemory(c, estimable),
    fail: (path, msg) => fail(path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)), msg),
    // Gossip algorithms ask for it: the topology is built (and its errors located) only then.
    neighbours: () => gossipNeighbours(buildTopology(c.topology.kind, c.workers, { bandwidth: q.bandwidth, latency: q.latency }, topologyOptions())),
  });
  // Your own files, your own module or a built-in data set, one of them; file paths are relative to the experiment.
  const d = c.data;
  const own = d.format !== undefined || d.module !== undefined;
  if (d.module !== undefined) {
    if (d.dataset !== undefined) fail(['data', 'dataset'], `expected either dataset or module, found both (dataset ${d.dataset}, module ${d.module})`);
  } else if (d.format !== undefined) {
    if (d.dataset !== undefined) fail(['data', 'dataset'], `expected either dataset or format, found both (dataset ${d.dataset}, format ${d.format})`);
    const dir = dirname(resolvePath(loc.file));
    const file = (path: Path, v: string, what: string): string => {
      const abs = resolvePath(dir, v);
      if (!existsSync(abs)) fail(path, `expected ${what}, found no file ${abs}`);
      return abs;
    };
    for (const k of ['train', 'test'] as const) {
      const v = d[k];
      const which = k === 'train' ? 'training' : 'test';
      if (v === undefined) fail(['data', k], `expected the ${which} ${d.format === 'csv' ? 'file' : 'files ({ x, y })'} for format ${d.format}, found nothing`);
      if (d.format === 'csv') {
        if (typeof v !== 'string') fail(['data', k], `expected one csv file for format csv, found a mapping`);
        d[k] = file(['data', k], v as string, 'a csv file');
      } else {
        if (typeof v === 'string') fail(['data', k], `expected { x: inputs file, y: labels file } for format ${d.format}, found one file ${v}`);
        const xy = v as { x: string; y: string };
        d[k] = { x: file(['data', k, 'x'], xy.x, `a ${d.format} file of inputs`), y: file(['data', k, 'y'], xy.y, `a ${d.format} file of labels`) };
      }
    }
    if (d.format !== 'csv' && d.labelColumn !== undefined) fail(['data', 'labelColumn'], `applies to format csv only, found it with format ${d.format} (labels are their own file)`);
  } else {
    if (d.dataset === undefined) fail(['data'], 'expected a dataset (fashion-mnist, linear, logistic, blobs, moby-dick), your own files (format: csv | npy | idx, train, test) or a data module, found none');
    for (const k of ['train', 'test', 'labelColumn', 'task'] as const) if (d[k] !== undefined) fail(['data', k], `expected ${k} only with format (your own files), found it with dataset ${d.dataset}`);
  }
  const regression = c.data.dataset === 'linear' || (d.format !== undefined && d.task === 'regression');
  // A module's or a file's data set may be anything: its shape is checked once it is loaded (preflight).
  const m = c.model;
  if (m.module !== undefined && m.kind !== undefined) fail(['model', 'kind'], `expected either kind or module, found both (kind ${m.kind}, module ${m.module})`);
  if (m.module === undefined && m.kind === undefined) fail(['model'], 'expected a model kind (logistic, linear, mlp, cnn, char-lstm) or your own module, found neither');
  // A module's model is built for the data it is given; the built-in kinds have rules.
  if (m.module === undefined) {
    if (regression && c.model.kind !== 'linear' && c.model.kind !== 'mlp') fail(['model', 'kind'], `expected linear or mlp for regression data set 'linear', found ${c.model.kind}`);
    if (!regression && d.module === undefined && c.model.kind === 'linear') fail(['model', 'kind'], `expected a classifier (logistic, mlp, cnn) for data set '${c.data.dataset}', found linear`);
    if (c.model.kind === 'cnn' && c.data.dataset !== 'fashion-mnist' && !(own && d.format !== 'csv')) fail(['model', 'kind'], `expected an image data set for cnn, found '${c.data.dataset}'`);
    if (c.model.kind === 'char-lstm' && c.data.dataset !== 'moby-dick') fail(['model', 'kind'], `expected a text data set (moby-dick) for char-lstm, found '${c.data.dataset}'`);
    if (c.data.dataset === 'moby-dick' && c.model.kind !== 'char-lstm') fail(['model', 'kind'], `expected char-lstm for data set 'moby-dick' (inputs are character ids), found ${c.model.kind}`);
  }
  if (regression && c.data.partition !== 'iid') fail(['data', 'partition'], `expected iid for a regression data set, found ${c.data.partition}`);
  const trainSamples = c.data.dataset === 'fashion-mnist' ? 60000 : c.data.samples;
  const perWorker = Math.floor(trainSamples / c.workers);
  if (!own && c.data.partition === 'iid' && c.data.batchSize > perWorker) {
    fail(['data', 'batchSize'], `expected at most the shard size (${perWorker} samples per worker), found ${c.data.batchSize}`);
  }
}

/** RuleContext.memory: the budget, the config's own estimate (0 when not estimable), processes holding the data. */
function ruleMemory(c: ExperimentConfig, estimable: boolean): { budgetBytes: number; estimatedBytes: number; processes: number } {
  const m = estimable ? estimateMemory(c) : null;
  const processes = c.transport.kind === 'ws' ? (c.transport.processes ?? c.workers) : 1;
  return { budgetBytes: m?.budgetBytes ?? totalmem() * c.limits.memoryFraction, estimatedBytes: m?.totalBytes ?? 0, processes };
}

/** Refuse a config whose data and model state would not fit in memory (estimated from its keys). */
/**
 * What a `dtemu simulate` run holds, as the memory estimate sees it: one process (one copy of
 * the data), and for all-reduce SGD on a ring without faults (the clock-array shortcut,
 * src/runtime/time-only-ring.ts) no per-worker model state.
 */
function timeOnlyFootprint(c: ExperimentConfig): ExperimentConfig {
  const shortcut = c.optimizer.kind === 'allreduce-sgd' && c.topology.kind === 'ring' && (c.faults ?? []).length === 0 && !c.faultsModule;
  return { ...c, transport: { ...c.transport, kind: 'inproc' }, workers: shortcut ? 1 : c.workers };
}

function checkMemory(loc: Locator, c: ExperimentConfig): void {
  const m = estimateMemory(c);
  if (m.totalBytes <= m.budgetBytes) return;
  const d = c.data;
  // Blame the key that makes it big: the data set's size, or the model's widest key.
  let path: Path;
  if (m.dataBytes >= m.modelBytes) path = d.dataset === 'moby-dick' || d.features * 10 < d.samples ? ['data', 'samples'] : ['data', 'features'];
  else if (c.model.kind === 'mlp') path = ['model', 'hidden'];
  else if (c.model.kind === 'cnn') path = ['model', 'channels'];
  else if (c.model.kind === 'char-lstm') path = ['model', 'lstmHidden'];
  else path = ['data', 'features'];
  const pct = Math.round(c.limits.memoryFraction * 100);
  throw new UserError(
    `${loc.where(path)}: ${path.join('.')}: this run would need about ${formatBytes(m.totalBytes)} of memory (data ${formatBytes(m.dataBytes)}, ` +
      `model of ${m.params} parameters x ${c.workers} workers ${formatBytes(m.modelBytes)}), expected at most ${formatBytes(m.budgetBytes)} ` +
      `(limits.memoryFraction ${pct}% of this machine's memory)`,
  );
}

/** The fault timeline with its quantities parsed and every reference checked. */
function parseFaults(loc: Locator, c: ExperimentConfig, topology: TopologyOptions, algorithm: Algorithm<OptimizerConfig>): Fault[] {
  const tolerates = algorithm.toleratesCrash(c.optimizer, c.topology.kind);
  const links = new Set(buildTopology(c.topology.kind, c.workers, { bandwidth: 1, latency: 0 }, topology).links.map((l) => l.id));
  const faults = c.faults.map((f, i): Fault => {
    const path = (k: string): Path => ['faults', i, k];
    const fail = (k: string, msg: string): never => {
      throw new UserError(`${loc.where(path(k))}: faults.${i}.${k}: ${msg}`);
    };
    const time = (k: string, v: unknown): number => {
      const t = parseQuantity('time', v);
      return typeof t === 'string' ? fail(k, t) : t;
    };
    const when = (k: string, v: number | string): When => (typeof v === 'number' ? { step: v } : { time: time(k, v) });
    const need = <T>(k: string, v: T | undefined, what: string): T => (v === undefined ? fail(k, `expected ${what} for a ${f.kind} fault, found nothing`) : v);
    if (f.kind === 'byzantine') return parseByzantineFault(f, c, algorithm, fail);
    // Every other kind starts at `at` (the schema cannot require it: byzantine starts at `from`).
    if (f.at === undefined) throw new UserError(`${loc.where(['faults', i])}: faults.${i}.at: required key is missing`);
    if (f.kind === 'slow' && f.factor !== undefined && !(f.factor >= 1)) fail('factor', `expected a number >= 1, found number ${f.factor}`);
    if (typeof f.at === 'number' && f.at < 1) fail('at', `expected a step >= 1 or a time, found ${f.at}`);
    if (f.for !== undefined && typeof f.for !== typeof f.at) {
      fail('for', `expected ${typeof f.at === 'number' ? 'a number of steps' : 'a duration with units'} like at, found ${JSON.stringify(f.for)}`);
    }
    if (f.kind === 'slow' || f.kind === 'stall' || f.kind === 'crash') {
      const w = need('worker', f.worker, 'a worker');
      if (w >= c.workers) fail('worker', `expected a worker rank below workers (${c.workers}), found ${w}`);
    }
    switch (f.kind) {
      case 'slow':
        return { kind: 'slow', worker: f.worker!, factor: need('factor', f.factor, 'a factor'), at: when('at', f.at), for: f.for === undefined ? null : when('for', f.for) };
      case 'stall':
        return { kind: 'stall', worker: f.worker!, at: when('at', f.at), duration: time('duration', need('duration', f.duration, 'a duration')) };
      case 'partition': {
        const ws = need('workers', f.workers, 'a list of workers');
        for (const w of ws) if (w >= c.workers) fail('workers', `expected worker ranks below workers (${c.workers}), found ${w}`);
        if (typeof f.at === 'number') fail('at', `expected a virtual time for a partition (the network knows no steps), found step ${f.at}`);
        // A partition that never heals would hang every synchronous collective forever.
        if (f.for === undefined || typeof f.for === 'number') fail('for', `expected a duration with units for a partition (it must heal), found ${f.for ?? 'nothing'}`);
        return { kind: 'partition', workers: ws, at: time('at', f.at), for: time('for', f.for) };
      }
      case 'crash': {
        if (typeof f.at !== 'number') fail('at', `expected a step for a crash, found "${f.at}"`);
        if (c.transport.kind === 'ws' && c.transport.processes !== undefined && c.transport.processes !== c.workers) {
          fail('kind', `expected one worker per process for a crash in ws mode (its process is killed), found transport.processes ${c.transport.processes}`);
        }
        if (f.rejoin !== undefined && !tolerates) {
          fail('rejoin', `expected rejoin only with gradient-coding or diloco on a star (a master that carries on without the worker), found optimizer ${c.optimizer.kind} on a ${c.topology.kind}`);
        }
        if (f.rejoin !== undefined && c.transport.kind === 'ws' && !c.transport.spawn) {
          fail('rejoin', 'expected transport.spawn true for a rejoin in ws mode (the coordinator starts the replacement process), found false');
        }
        let rejoin: { steps: number } | { time: number } | null = null;
        if (typeof f.rejoin === 'number') {
          if (!(f.rejoin >= 1)) fail('rejoin', `expected a number of steps >= 1 or a time with units, found ${f.rejoin}`);
          rejoin = { steps: f.rejoin };
        } else if (f.rejoin !== undefined) rejoin = { time: time('rejoin', f.rejoin) };
        return { kind: 'crash', worker: f.worker!, at: { step: f.at as number }, rejoin };
      }
      case 'link': {
        const id = need('link', f.link, 'a link');
        if (!links.has(id)) fail('link', `expected one of ${[...links].join(', ')} on this ${c.topology.kind}, found "${id}"`);
        if (typeof f.at === 'number') fail('at', `expected a virtual time for a link fault (the network knows no steps), found step ${f.at}`);
        if (typeof f.for === 'number') fail('for', `expected a time for a link fault, found ${f.for} steps`);
        if (f.bandwidth === undefined && f.latency === undefined) fail('kind', 'expected bandwidth and/or latency for a link fault');
        let bandwidth: number | null = null;
        if (f.bandwidth !== undefined) {
          const b = parseQuantity('bandwidth', f.bandwidth);
          bandwidth = typeof b === 'string' ? fail('bandwidth', b) : b;
        }
        return {
          kind: 'link',
          link: id,
          bandwidth,
          latency: f.latency === undefined ? null : time('latency', f.latency),
          at: time('at', f.at),
          for: f.for === undefined ? null : time('for', f.for),
        };
      }
    }
  });
  checkByzantineTimeline(faults, c.workers, (i, k, msg) => {
    throw new UserError(`${loc.where(['faults', i, k])}: faults.${i}.${k}: ${msg}`);
  });
  // Algorithms whose master carries on run on after crashes (within what they tolerate); worker 0 evaluates.
  const crashes = faults.flatMap((f, i) => (f.kind === 'crash' ? [{ f, i }] : []));
  if (tolerates && crashes.length > 0) {
    const where = (i: number) => `${loc.where(['faults', i, 'worker'])}: faults.${i}.worker`;
    const zero = crashes.find(({ f }) => f.kind === 'crash' && f.worker === 0);
    if (zero) throw new UserError(`${where(zero.i)}: expected a worker other than 0 (worker 0 evaluates the model), found 0`);
    const distinct = new Set(crashes.map(({ f }) => (f as { worker: number }).worker));
    if (distinct.size < crashes.length) {
      const last = crashes[crashes.length - 1]!;
      throw new UserError(`${where(last.i)}: expected one crash per worker, found ${crashes.length} crashes of ${distinct.size} worker(s)`);
    }
    const tooMany = algorithm.crashRules?.(c.optimizer, distinct.size, c.workers) ?? null;
    if (tooMany !== null) throw new UserError(`${where(crashes[crashes.length - 1]!.i)}: ${tooMany}`);
  }
  return faults;
}

/** Keys no --set may name: they would reach Object.prototype when the document becomes JS. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Apply `--set a.b=value` overrides (value parsed as YAML) to the document. */
function applySets(loc: Locator, sets: string[]): void {
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${s.slice(0, 100)}: expected key.path=value`);
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    const parts = key.split('.');
    if (key.length > 200 || parts.some((p) => p.trim() === '')) throw new UserError(`--set ${key.slice(0, 100)}: expected a dotted key path like optimizer.lr (no empty parts)`);
    const bad = parts.find((p) => FORBIDDEN_KEYS.has(p));
    if (bad) throw new UserError(`--set ${key}: expected a config key, found '${bad}'`);
    let value: unknown;
    // The value is YAML too (numbers, lists, mappings), with the same alias limit as files.
    const vdoc = parseDocument(raw, { uniqueKeys: true });
    if (vdoc.errors.length > 0) value = raw;
    else {
      try {
        value = vdoc.toJS({ maxAliasCount: YAML_MAX_ALIASES });
      } catch {
        throw new UserError(`--set ${key}: the value expands too many YAML aliases`);
      }
    }
    const path: Path = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    // A list index must name an existing entry or the next one (else YAML pads with nulls that
    // are then blamed on the file).
    for (let i = 0; i < path.length; i++) {
      const p = path[i]!;
      if (typeof p !== 'number') continue;
      const parent = loc.doc.getIn(path.slice(0, i), true) as Node | undefined;
      const len = parent && isSeq(parent) ? parent.items.length : 0;
      if (p > len) {
        const listKey = path.slice(0, i).join('.');
        throw new UserError(`--set ${key}: expected an index of ${listKey} up to ${len} (it has ${len} entr${len === 1 ? 'y' : 'ies'}; ${len} appends), found ${p}`);
      }
    }
    try {
      // As a YAML node, so a later --set can reach into a mapping set by an earlier one.
      loc.doc.setIn(path, value !== null && typeof value === 'object' ? loc.doc.createNode(value) : value);
    } catch {
      throw new UserError(`--set ${key}: cannot set this key (a parent of it is not a mapping)`);
    }
    loc.setPaths.add(key);
  }
}

/**
 * Read, override, validate and resolve an experiment file. Every problem becomes a UserError
 * whose one-line message names file:line:col, the dotted key, what was expected and found.
 */
export interface LoadOptions {
  sets?: string[];
  seed?: number;
  /** Fault entries a fault module's `timeline` export generated (appended to `faults`). */
  generatedFaults?: { entries: unknown[]; source: string };
  /**
   * Locations to report instead of `--set KEY` for overrides that come from the file itself
   * (a sweep's grid entries and seeds: "file:line:col"), keyed by the override's key.
   */
  setOrigins?: Record<string, string>;
  /** A time-only run (`dtemu simulate`): memory is estimated for what it holds (timeOnlyFootprint). */
  timeOnly?: boolean;
}

export function loadConfig(file: string, opts: LoadOptions = {}): LoadedConfig {
  // A regular text file of at most 1 MB: no FIFO, device, directory or binary file is read.
  return loadConfigText(file, readConfigFile(file), opts);
}

/** "file:line:col" of a key in a config text (for errors found outside the loader, e.g. the fault module). */
export function locateKey(file: string, src: string, path: Path): string {
  return new Locator(file, src).where(path);
}

export function loadConfigText(file: string, src: string, opts: LoadOptions = {}): LoadedConfig {
  const loc = new Locator(file, src);
  const yerr = loc.doc.errors[0];
  if (yerr) {
    const msg = yerr.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').slice(0, 200);
    throw new UserError(`${loc.at(yerr.pos[0])}: YAML syntax error: ${msg}`);
  }
  applySets(loc, opts.sets ?? []);
  if (opts.setOrigins) loc.setOrigins = opts.setOrigins;
  if (opts.seed !== undefined) {
    loc.doc.set('seed', opts.seed);
    loc.setPaths.add('seed');
  }
  let userFaults = 0;
  const gen = opts.generatedFaults;
  const existing = loc.doc.get('faults');
  // (A `faults` that is not a list is left for the schema check to report.)
  if (gen && gen.entries.length > 0 && (existing === undefined || isSeq(existing))) {
    userFaults = existing ? existing.items.length : 0;
    if (!existing) loc.doc.set('faults', loc.doc.createNode([]));
    for (const e of gen.entries) loc.doc.addIn(['faults'], loc.doc.createNode(e));
    loc.generated = { from: userFaults, source: gen.source };
  }
  let data: unknown;
  try {
    data = loc.doc.toJS({ maxAliasCount: YAML_MAX_ALIASES }) as unknown;
  } catch (e) {
    let at = 0;
    visit(loc.doc, {
      Alias(_, node) {
        at = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    throw new UserError(`${loc.at(at)}: YAML aliases: expected at most ${YAML_MAX_ALIASES} alias expansions, found more (${(e as Error).message.split('\n')[0]!.slice(0, 80)})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError(`${loc.at(loc.doc.contents?.range?.[0] ?? 0)}: (top level): expected a mapping of experiment keys, found ${describe(data)}`);
  }
  const plugins = pluginPaths(loc, file, data as Record<string, unknown>);
  const algoPlugin = plugins.algorithm ? (algorithmPlugins.get(plugins.algorithm) ?? null) : null;
  const compPlugin = plugins.compressor ? (compressorPlugins.get(plugins.compressor) ?? null) : null;
  // A module not imported yet: the rest is checked now, the optimizer block by resolvePlugins.
  const modelPlugin = plugins.model ? (modelPlugins.get(plugins.model) ?? null) : null;
  const dataPlugin = plugins.data ? (datasetPlugins.get(plugins.data) ?? null) : null;
  const pending =
    (plugins.algorithm !== undefined && !algoPlugin) ||
    (plugins.compressor !== undefined && !compPlugin) ||
    (plugins.model !== undefined && !modelPlugin) ||
    (plugins.data !== undefined && !dataPlugin);
  let algorithm = plugins.algorithm ? algoPlugin : algorithmNamed(data);
  const v = pending
    ? plugins.data !== undefined && !dataPlugin
      ? (lenientDataValidator ??= lenient(true))
      : (lenientValidator ??= lenient(false))
    : algorithm && (plugins.algorithm || plugins.compressor || plugins.model || plugins.data)
      ? pluginValidator(algorithm, plugins.algorithm, compPlugin, plugins.compressor, modelPlugin, plugins.model, dataPlugin, plugins.data)
      : validatorFor(algorithm);
  if (!v.validate(data)) throw schemaError(loc, data, v.validate.errors![0]!, v.schema);
  if (pending) algorithm = PENDING_PLUGIN;
  if (!algorithm) throw new UserError(`${loc.where(['optimizer', 'kind'])}: optimizer.kind: expected an algorithm`);
  if (algoPlugin) (data as { optimizer: OptimizerConfig }).optimizer.kind = algoPlugin.kind;
  const config = data as ExperimentConfig;
  if (!config.name) config.name = basename(file, extname(file));
  const q = parseQuantities(loc, config, algorithm);
  let topologyMemo: TopologyOptions | undefined;
  const topologyOptions = (): TopologyOptions => (topologyMemo ??= topologyOptionsOf(file, (path) => loc.where(path), config, q));
  crossChecks(loc, config, q, algorithm, topologyOptions, opts.timeOnly === true);
  const topology = topologyOptions();
  const faults = parseFaults(loc, config, topology, algorithm);
  let faultsModulePath: string | null = null;
  if (config.faultsModule !== undefined) {
    faultsModulePath = resolvePath(dirname(resolvePath(file)), config.faultsModule);
    if (!existsSync(faultsModulePath)) throw new UserError(`${loc.where(['faultsModule'])}: faultsModule: expected a JS/TS module, found no file ${faultsModulePath}`);
  }
  // Generated entries are validated and parsed with the rest, but config.yaml keeps the module.
  if (loc.generated) config.faults = config.faults.slice(0, userFaults);
  // A --seed counts as an override when the file is reloaded (with generated faults).
  const sets = [...(opts.sets ?? []), ...(opts.seed !== undefined ? [`seed=${opts.seed}`] : [])];
  return {
    config,
    q,
    topology,
    faultsModulePath,
    faults,
    file,
    src,
    sets,
    generatedFaults: gen?.entries ?? [],
    ...(plugins.algorithm || plugins.compressor || plugins.model || plugins.data ? { plugins } : {}),
  };
}
