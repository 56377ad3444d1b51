import { Ajv, type ErrorObject } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, parse as parseYaml, type Document, type Node } from 'yaml';
import { UserError } from '../util/user-error.ts';
import { checkCompressorSpec } from '../../comm/compress/factory.ts';
import { parseQuantity, type QuantityKind } from './quantities.ts';
import { buildTopology } from '../../topologies/index.ts';
import type { Fault, When } from '../sim/faults.ts';
import { experimentSchema } from './schema.ts';
import type { ExperimentConfig, LoadedConfig, Quantities } from './types.ts';

type Path = (string | number)[];

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const validateSchema = ajv.compile(experimentSchema);

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
function schemaAt(path: Path): Record<string, unknown> | null {
  let s: Record<string, unknown> = experimentSchema as unknown as Record<string, unknown>;
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

  constructor(
    readonly file: string,
    src: string,
  ) {
    this.doc = parseDocument(src, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
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
    for (const sp of this.setPaths) if (dotted === sp || dotted.startsWith(sp + '.')) return `--set ${sp}`;
    if (keyName !== undefined) {
      const parent = this.doc.getIn(path, true) as Node | undefined;
      if (parent && isMap(parent)) {
        for (const item of parent.items) {
          if (isScalar(item.key) && String(item.key.value) === keyName && item.key.range) return `${this.file}:${this.pos(item.key.range[0])}`;
        }
      }
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
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
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

function schemaError(loc: Locator, data: unknown, err: ErrorObject): UserError {
  const path = pathOf(err.instancePath);
  const found = valueAt(data, path);
  const key = (p: Path) => (p.length ? p.join('.') : '(top level)');
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((schemaAt(path)?.['properties'] as object) ?? {});
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
      const t = (err.params as { type: string }).type;
      const expected = t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `${t === 'integer' ? 'an' : 'a'} ${t}`;
      return new UserError(`${loc.where(path)}: ${key(path)}: expected ${expected}, found ${describe(found)}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = err.params as { comparison: string; limit: number };
      return new UserError(`${loc.where(path)}: ${key(path)}: expected a number ${p.comparison} ${p.limit}, found ${describe(found)}`);
    }
    default:
      return new UserError(`${loc.where(path)}: ${key(path)}: expected a value that ${err.message ?? 'is valid'}, found ${describe(found)}`);
  }
}

/** Parse every `x-quantity` string in the config, reporting the first bad one with its place. */
function parseQuantities(loc: Locator, c: ExperimentConfig): Quantities {
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
    delayShift: get('time', ['stragglers', 'delay', 'shift']),
    delayMean: get('time', ['stragglers', 'delay', 'mean']),
    delayScale: get('time', ['stragglers', 'delay', 'scale']),
    delaySlow: get('time', ['stragglers', 'delay', 'slow']),
    delayFast: get('time', ['stragglers', 'delay', 'fast']),
    syncTimeout: c.optimizer.syncTimeout === undefined ? null : get('time', ['optimizer', 'syncTimeout']),
  };
}

/** Rules that involve several keys. */
function crossChecks(loc: Locator, c: ExperimentConfig, q: Quantities): void {
  const fail = (path: Path, msg: string) => {
    throw new UserError(`${loc.where(path)}: ${path.join('.')}: ${msg}`);
  };
  c.stragglers.slow.forEach((s, i) => {
    if (s.worker >= c.workers) fail(['stragglers', 'slow', i, 'worker'], `expected a worker rank below workers (${c.workers}), found ${s.worker}`);
  });
  for (const [i, w] of (c.stragglers.delay.workers ?? []).entries()) {
    if (w >= c.workers) fail(['stragglers', 'delay', 'workers', i], `expected a worker rank below workers (${c.workers}), found ${w}`);
  }
  if (q.heartbeatTimeout < 1) fail(['transport', 'heartbeatTimeout'], `expected at least 1 s, found "${c.transport.heartbeatTimeout}"`);
  if (c.transport.processes !== undefined && c.transport.processes > c.workers) {
    fail(['transport', 'processes'], `expected at most workers (${c.workers}) processes, found ${c.transport.processes}`);
  }
  const o = c.optimizer;
  if (o.kind === 'powersgd') {
    if (o.errorFeedback === 'ef21') fail(['optimizer', 'errorFeedback'], 'expected ef or none for powersgd, found ef21');
    if (o.compressor.kind !== 'none') fail(['optimizer', 'compressor'], `expected no compressor for powersgd (it is its own), found ${o.compressor.kind}`);
  } else if (o.kind !== 'allreduce-sgd' && o.kind !== 'gradient-coding') {
    try {
      const { bucket, ...spec } = o.compressor;
      if (bucket !== undefined && spec.perTensor) throw new Error('bucket and perTensor exclude each other');
      checkCompressorSpec(spec);
    } catch (e) {
      fail(['optimizer', 'compressor'], `expected a valid compressor: ${(e as Error).message}`);
    }
    const dense = ['none', 'fp16', 'bf16'].includes(o.compressor.kind);
    if (o.aggregation === 'ring' && !dense) fail(['optimizer', 'aggregation'], `expected allgather or ps for compressor ${o.compressor.kind} (ring needs a dense compressor: none, fp16, bf16), found ring`);
    if (o.aggregation === 'ps' && c.topology.kind !== 'star') fail(['optimizer', 'aggregation'], `expected topology star for ps aggregation, found topology ${c.topology.kind}`);
    if (o.errorFeedback === 'ef21' && o.aggregation !== 'allgather' && !(o.aggregation === 'auto' && !dense && c.topology.kind !== 'star')) {
      fail(['optimizer', 'errorFeedback'], 'expected ef or none unless payloads are all-gathered (ef21 keeps a receiver on every worker); set aggregation: allgather');
    }
  } else if (o.compressor.kind !== 'none') {
    fail(['optimizer', 'compressor'], `expected no compressor for ${o.kind} (use compressed-sgd or qsparse-local-sgd), found ${o.compressor.kind}`);
  }
  if (o.kind === 'diloco' && c.topology.kind === 'star' && o.fragments !== 1) {
    fail(['optimizer', 'fragments'], `expected 1 fragment for diloco on a star (its master averages whole models), found ${o.fragments}`);
  }
  if (o.kind === 'diloco' && o.overlap > 0) {
    if (c.topology.kind === 'star') fail(['optimizer', 'overlap'], `expected overlap 0 for diloco on a star (its master replies with whole models), found ${o.overlap}`);
    if (o.overlap >= o.localSteps) fail(['optimizer', 'overlap'], `expected overlap below localSteps (${o.localSteps}: a fragment must be merged before it syncs again), found ${o.overlap}`);
  }
  if (o.syncTimeout !== undefined && !(o.kind === 'diloco' && c.topology.kind === 'star')) {
    fail(['optimizer', 'syncTimeout'], 'expected syncTimeout only for diloco on topology star (the master decides who is late)');
  }
  if (o.kind === 'diloco' && o.compressor.kind !== 'none' && c.topology.kind === 'star') {
    fail(['optimizer', 'compressor'], 'expected no compressor for diloco on a star (compressed outer gradients are all-gathered or ring-reduced: use topology ring)');
  }
  if (o.kind === 'qsparse-local-sgd' && o.mode === 'async') {
    if (c.topology.kind !== 'star') fail(['optimizer', 'mode'], `expected topology star for async (the master is the parameter server), found ${c.topology.kind}`);
    if (o.errorFeedback === 'ef21') fail(['optimizer', 'errorFeedback'], 'expected ef or none in async mode, found ef21');
    if (o.syncEvery && o.syncEvery.length !== c.workers) fail(['optimizer', 'syncEvery'], `expected one period per worker (${c.workers}), found ${o.syncEvery.length}`);
  } else if (o.syncEvery) {
    fail(['optimizer', 'syncEvery'], 'expected syncEvery only with qsparse-local-sgd mode async');
  }
  if (o.kind === 'gradient-coding') {
    if (c.topology.kind !== 'star') fail(['topology', 'kind'], `expected star for gradient-coding (the master is the parameter server), found ${c.topology.kind}`);
    if (o.stragglersTolerated >= c.workers) fail(['optimizer', 'stragglersTolerated'], `expected s below workers (${c.workers}), found ${o.stragglersTolerated}`);
    if (o.scheme === 'fractional' && c.workers % (o.stragglersTolerated + 1) !== 0) {
      fail(['optimizer', 'scheme'], `expected cyclic, or s+1 (${o.stragglersTolerated + 1}) dividing workers (${c.workers}) for fractional, found fractional`);
    }
  }
  const regression = c.data.dataset === 'linear';
  if (regression && c.model.kind !== 'linear' && c.model.kind !== 'mlp') fail(['model', 'kind'], `expected linear or mlp for regression data set 'linear', found ${c.model.kind}`);
  if (!regression && c.model.kind === 'linear') fail(['model', 'kind'], `expected a classifier (logistic, mlp, cnn) for data set '${c.data.dataset}', found linear`);
  if (c.model.kind === 'cnn' && c.data.dataset !== 'fashion-mnist') fail(['model', 'kind'], `expected an image data set for cnn, found '${c.data.dataset}'`);
  if (regression && c.data.partition !== 'iid') fail(['data', 'partition'], `expected iid for a regression data set, found ${c.data.partition}`);
  const trainSamples = c.data.dataset === 'fashion-mnist' ? 60000 : c.data.samples;
  const perWorker = Math.floor(trainSamples / c.workers);
  if (c.data.partition === 'iid' && c.data.batchSize > perWorker) {
    fail(['data', 'batchSize'], `expected at most the shard size (${perWorker} samples per worker), found ${c.data.batchSize}`);
  }
}

/** The fault timeline with its quantities parsed and every reference checked. */
function parseFaults(loc: Locator, c: ExperimentConfig): Fault[] {
  const links = new Set(buildTopology(c.topology.kind, c.workers, { bandwidth: 1, latency: 0 }).links.map((l) => l.id));
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
        return { kind: 'crash', worker: f.worker!, at: { step: f.at as number } };
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
  // Gradient coding runs on after crashes, within what the code tolerates; worker 0 evaluates.
  const crashes = faults.flatMap((f, i) => (f.kind === 'crash' ? [{ f, i }] : []));
  if ((c.optimizer.kind === 'gradient-coding' || (c.optimizer.kind === 'diloco' && c.topology.kind === 'star')) && crashes.length > 0) {
    const where = (i: number) => `${loc.where(['faults', i, 'worker'])}: faults.${i}.worker`;
    const zero = crashes.find(({ f }) => f.kind === 'crash' && f.worker === 0);
    if (zero) throw new UserError(`${where(zero.i)}: expected a worker other than 0 (worker 0 evaluates the model), found 0`);
    const distinct = new Set(crashes.map(({ f }) => (f as { worker: number }).worker));
    if (c.optimizer.kind === 'gradient-coding' && distinct.size > c.optimizer.stragglersTolerated) {
      const last = crashes[crashes.length - 1]!;
      throw new UserError(
        `${where(last.i)}: expected at most optimizer.stragglersTolerated (${c.optimizer.stragglersTolerated}) crashed workers for gradient-coding, found ${distinct.size}`,
      );
    }
  }
  return faults;
}

/** Apply `--set a.b=value` overrides (value parsed as YAML) to the document. */
function applySets(loc: Locator, sets: string[]): void {
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${s}: expected key.path=value`);
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    const path: Path = key.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    try {
      loc.doc.setIn(path, value);
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
export function loadConfig(file: string, opts: { sets?: string[]; seed?: number } = {}): LoadedConfig {
  let src: string;
  try {
    src = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return loadConfigText(file, src, opts);
}

export function loadConfigText(file: string, src: string, opts: { sets?: string[]; seed?: number } = {}): LoadedConfig {
  const loc = new Locator(file, src);
  const yerr = loc.doc.errors[0];
  if (yerr) {
    const msg = yerr.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${loc.at(yerr.pos[0])}: YAML syntax error: ${msg}`);
  }
  applySets(loc, opts.sets ?? []);
  if (opts.seed !== undefined) {
    loc.doc.set('seed', opts.seed);
    loc.setPaths.add('seed');
  }
  const data = loc.doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError(`${file}:1:1: (top level): expected a mapping of experiment keys, found ${describe(data)}`);
  }
  if (!validateSchema(data)) throw schemaError(loc, data, validateSchema.errors![0]!);
  const config = data as ExperimentConfig;
  if (!config.name) config.name = basename(file, extname(file));
  const q = parseQuantities(loc, config);
  crossChecks(loc, config, q);
  const faults = parseFaults(loc, config);
  let faultsModulePath: string | null = null;
  if (config.faultsModule !== undefined) {
    faultsModulePath = resolvePath(dirname(resolvePath(file)), config.faultsModule);
    if (!existsSync(faultsModulePath)) throw new UserError(`${loc.where(['faultsModule'])}: faultsModule: expected a JS/TS module, found no file ${faultsModulePath}`);
  }
  return { config, q, faults, faultsModulePath, file };
}
