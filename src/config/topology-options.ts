import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { buildTopology, TopologyError, type GraphEdge, type TopologyOptions } from '../../topologies/index.ts';
import type { LinkOverride } from '../../topologies/overrides.ts';
import type { LinkTrace } from '../../topologies/trace.ts';
import { UserError } from '../util/user-error.ts';
import { parseQuantity, type QuantityKind } from './quantities.ts';
import type { ExperimentConfig, LinkSpecConfig, Quantities } from './types.ts';

type Path = (string | number)[];

/**
 * topology.* and network.nodes / network.links in SI units, with the topology built once so
 * every description error (unknown node, self-loop, disconnected graph, groups that do not add
 * up, a collective the topology cannot run) is one located line before anything is written.
 * Graph link files are read here (topologies/ does no I/O).
 */
export function topologyOptionsOf(file: string, where: (path: Path) => string, c: ExperimentConfig, q: Quantities): TopologyOptions {
  const fail = (path: Path, msg: string): never => {
    throw new UserError(`${where(path)}: ${path.join('.')}: ${msg}`);
  };
  const quantity = (kind: QuantityKind, path: Path, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const v = parseQuantity(kind, raw);
    return typeof v === 'string' ? fail(path, v) : v;
  };
  const spec = (path: Path, s: LinkSpecConfig | undefined): LinkOverride | undefined =>
    s && { bandwidth: quantity('bandwidth', [...path, 'bandwidth'], s.bandwidth), latency: quantity('time', [...path, 'latency'], s.latency) };
  const t = c.topology;
  const o: TopologyOptions = {
    shared: t.shared,
    arity: t.arity,
    oversubscription: t.oversubscription,
  };
  const def = <T>(v: T | undefined): v is T => v !== undefined;
  // Keys that only one kind reads: set on another kind they would be silently ignored.
  const only: [keyof typeof t, string[]][] = [
    ['server', ['star']],
    ['up', ['switch']],
    ['down', ['switch']],
    ['dims', ['torus']],
    ['groups', ['hierarchical']],
    ['intra', ['hierarchical']],
    ['inter', ['hierarchical']],
    ['links', ['graph']],
    ['file', ['graph']],
    ['generate', ['graph']],
  ];
  for (const [key, kinds] of only) {
    if (t[key] !== undefined && !kinds.includes(t.kind)) fail(['topology', key], `expected ${key} only for topology ${kinds.join(' or ')}, found it on a ${t.kind}`);
  }
  if (def(t.server)) o.server = strip(spec(['topology', 'server'], t.server)!);
  if (def(t.up)) o.up = quantity('bandwidth', ['topology', 'up'], t.up);
  if (def(t.down)) o.down = quantity('bandwidth', ['topology', 'down'], t.down);
  if (def(t.dims)) o.dims = t.dims;
  if (def(t.groups)) o.groups = t.groups;
  if (def(t.intra)) o.intra = strip(spec(['topology', 'intra'], t.intra)!);
  if (def(t.inter)) o.inter = strip(spec(['topology', 'inter'], t.inter)!);
  if (def(t.links) && def(t.file)) fail(['topology', 'file'], 'expected either links or file for a graph, found both');
  if (def(t.links)) {
    o.edges = t.links.map((l, i): GraphEdge => {
      if (Array.isArray(l)) return { a: l[0], b: l[1] };
      return strip({ a: l.a, b: l.b, bandwidth: quantity('bandwidth', ['topology', 'links', i, 'bandwidth'], l.bandwidth), latency: quantity('time', ['topology', 'links', i, 'latency'], l.latency), weight: l.weight });
    });
  }
  let edgeLines: string[] | null = null;
  if (def(t.file)) {
    const path = resolvePath(dirname(resolvePath(file)), t.file);
    const loaded = readEdgeFile(path, (msg) => fail(['topology', 'file'], msg));
    o.edges = loaded.edges;
    edgeLines = loaded.where;
  }
  if (def(t.generate)) {
    const g = t.generate;
    const need = <T>(k: string, v: T | undefined): T => (v === undefined ? fail(['topology', 'generate', k], `expected ${k} for a ${g.kind} graph, found nothing`) : v);
    if (g.kind === 'ring-lattice') o.generate = { kind: 'ring-lattice', k: need('k', g.k) };
    else if (g.kind === 'grid') o.generate = { kind: 'grid', dims: need('dims', g.dims) };
    else if (g.kind === 'exponential') o.generate = { kind: 'exponential' };
    else o.generate = { kind: 'erdos-renyi', p: need('p', g.p), seed: c.seed };
  }
  const nodes: Record<string, LinkOverride> = {};
  for (const [k, v] of Object.entries(c.network.nodes)) nodes[k] = strip(spec(['network', 'nodes', k], v)!);
  const links: Record<string, LinkOverride> = {};
  for (const [k, v] of Object.entries(c.network.links)) links[k] = strip(spec(['network', 'links', k], v)!);
  c.network.traces.forEach((tr, i) => {
    const path: Path = ['network', 'traces', i];
    if ((tr.link === undefined) === (tr.node === undefined)) fail(path, `expected exactly one of link or node, found ${tr.link === undefined ? 'neither' : 'both'}`);
    const trace = readTraceFile(resolvePath(dirname(resolvePath(file)), tr.file), (msg) => fail([...path, 'file'], msg));
    (o.traces ??= []).push({ ...(tr.link !== undefined ? { link: tr.link } : { node: tr.node! }), trace, path });
  });
  if (Object.keys(nodes).length > 0) o.nodes = nodes;
  if (Object.keys(links).length > 0) o.links = links;
  let built;
  try {
    built = buildTopology(t.kind, c.workers, { bandwidth: q.bandwidth, latency: q.latency }, o);
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    // An edge read from a file is located by its file and line.
    if (edgeLines && e.path[1] === 'links' && typeof e.path[2] === 'number') throw new UserError(`${edgeLines[e.path[2]] ?? t.file}: topology.file: ${e.message}`);
    fail(e.path, e.message);
  }
  const col = t.collective;
  if (t.kind === 'star' && col !== 'ring') fail(['topology', 'collective'], `expected ring on a star (its parameter server aggregates), found ${col}`);
  if (col === 'hierarchical' && !built!.groups) fail(['topology', 'collective'], `expected topology hierarchical for the hierarchical collective (it needs groups), found ${t.kind}`);
  if (col === '2d-ring' && built!.dims?.length !== 2) fail(['topology', 'collective'], `expected a 2-D torus for 2d-ring, found ${t.kind}${built!.dims ? ` with ${built!.dims.length} dimensions` : ''}`);
  return o;
}

/** Drop undefined fields (so `{ ...spec, ...override }` keeps the defaults). */
function strip<T extends object>(x: T): T {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
}

/** Largest links or trace file read (a measured trace of a day at 1 s is about 2 MB). */
const DATA_FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A links or trace file's text: a regular file of bounded size (a FIFO would block the read for
 * ever, /dev/zero would fill memory), else a located error through `fail`.
 */
export function readDataText(path: string, what: string, fail: (msg: string) => never): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st && !st.isFile()) return fail(`expected a readable ${what} (a regular file), found ${path} (${st.isDirectory() ? 'a directory' : 'not a regular file'})`);
  if (st && st.size > DATA_FILE_MAX_BYTES) return fail(`expected a ${what} of at most ${DATA_FILE_MAX_BYTES} bytes, found ${path} (${st.size} bytes)`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return fail(`expected a readable ${what}, found ${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** A data file's JSON, or a located "syntax error" through `fail`. */
export function parseJsonText(text: string, path: string, fail: (msg: string) => never): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return fail(`expected JSON in ${path}, found a syntax error (${(e as Error).message})`);
  }
}

/**
 * Links from a CSV (`a,b[,bandwidth[,latency[,weight]]]` per line, `#` comments and a header line
 * allowed; quantities with units or plain bits/s and seconds; an empty cell keeps the default) or
 * a JSON list of {a, b, bandwidth?, latency?, weight?}. `weight` is a gossip mixing weight in
 * [0, 1] (`mixing: graph`). Returns the edges and, per edge, "file:line" for error messages.
 */
export function readEdgeFile(path: string, fail: (msg: string) => never): { edges: GraphEdge[]; where: string[] } {
  const text = readDataText(path, 'links file', fail);
  const edges: GraphEdge[] = [];
  const where: string[] = [];
  const num = (at: string, kind: QuantityKind, raw: unknown): number => {
    if (typeof raw === 'number') {
      if (!(raw >= 0) || (kind === 'bandwidth' && raw === 0)) throw new UserError(`${at}: topology.file: expected a positive ${kind}, found ${raw}`);
      return raw;
    }
    const s = String(raw).trim();
    if (/^[0-9.eE+-]+$/.test(s)) return num(at, kind, Number(s));
    const v = parseQuantity(kind, s);
    if (typeof v === 'string') throw new UserError(`${at}: topology.file: ${v}`);
    return v;
  };
  const weight = (at: string, raw: unknown): number => {
    const v = typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(String(raw).trim());
    if (!(v >= 0 && v <= 1)) throw new UserError(`${at}: topology.file: expected a mixing weight in [0, 1], found ${JSON.stringify(raw)}`);
    return v;
  };
  const node = (at: string, raw: unknown): number => {
    const v = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isInteger(v) || v < 0) throw new UserError(`${at}: topology.file: expected a node rank (integer >= 0), found ${JSON.stringify(raw)}`);
    return v;
  };
  if (path.endsWith('.json')) {
    const data = parseJsonText(text, path, fail);
    if (!Array.isArray(data)) return fail(`expected a JSON list of links in ${path}, found ${typeof data}`);
    data.forEach((d: unknown, i) => {
      const at = `${path}: [${i}]`;
      if (typeof d !== 'object' || d === null) throw new UserError(`${at}: topology.file: expected {a, b, bandwidth?, latency?, weight?}, found ${JSON.stringify(d)}`);
      const r = d as Record<string, unknown>;
      const e: GraphEdge = { a: node(at, r['a']), b: node(at, r['b']) };
      if (r['bandwidth'] !== undefined) e.bandwidth = num(at, 'bandwidth', r['bandwidth']);
      if (r['latency'] !== undefined) e.latency = num(at, 'time', r['latency']);
      if (r['weight'] !== undefined) e.weight = weight(at, r['weight']);
      edges.push(e);
      where.push(at);
    });
    return { edges, where };
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const body = line.replace(/#.*/, '').trim();
    if (body === '') return;
    const cells = body.split(',').map((x) => x.trim());
    const at = `${path}:${i + 1}`;
    if (edges.length === 0 && where.length === 0 && !/^\d/.test(cells[0]!)) return; // header
    if (cells.length < 2 || cells.length > 5) throw new UserError(`${at}: topology.file: expected a,b[,bandwidth[,latency[,weight]]], found "${body}"`);
    const e: GraphEdge = { a: node(at, cells[0]), b: node(at, cells[1]) };
    if (cells[2]) e.bandwidth = num(at, 'bandwidth', cells[2]);
    if (cells[3]) e.latency = num(at, 'time', cells[3]);
    if (cells[4]) e.weight = weight(at, cells[4]);
    edges.push(e);
    where.push(at);
  });
  return { edges, where };
}

/**
 * A bandwidth trace: CSV lines `time,bandwidth[,latency]` (quantities with units, or plain
 * seconds and bits/s; `#` comments and a header line allowed). Times must strictly increase and
 * bandwidths be positive: errors name the file and line.
 */
export function readTraceFile(path: string, fail: (msg: string) => never): LinkTrace {
  const text = readDataText(path, 'trace file', fail);
  const tr: LinkTrace = { times: [], bandwidth: [], latency: [] };
  const value = (at: string, kind: QuantityKind, raw: string, what: string): number => {
    const s = raw.trim();
    const v = /^[-+0-9.eE]+$/.test(s) ? Number(s) : parseQuantity(kind, s);
    if (typeof v === 'string') throw new UserError(`${at}: network.traces: ${what}: ${v}`);
    if (!Number.isFinite(v) || v < 0 || (kind === 'bandwidth' && v === 0)) throw new UserError(`${at}: network.traces: ${what}: expected a ${kind === 'bandwidth' ? 'positive bandwidth' : 'non-negative time'}, found "${s}"`);
    return v;
  };
  text.split(/\r?\n/).forEach((line, i) => {
    const body = line.replace(/#.*/, '').trim();
    if (body === '') return;
    const cells = body.split(',');
    const at = `${path}:${i + 1}`;
    if (tr.times.length === 0 && !/^[-+0-9.]/.test(cells[0]!.trim())) return; // header
    if (cells.length < 2 || cells.length > 3) throw new UserError(`${at}: network.traces: expected time,bandwidth[,latency], found "${body}"`);
    const t = value(at, 'time', cells[0]!, 'time');
    const prev = tr.times[tr.times.length - 1];
    if (prev !== undefined && !(t > prev)) throw new UserError(`${at}: network.traces: time: expected times in increasing order (after ${prev} s), found ${t} s`);
    tr.times.push(t);
    tr.bandwidth.push(value(at, 'bandwidth', cells[1]!, 'bandwidth'));
    tr.latency.push(cells[2] !== undefined && cells[2].trim() !== '' ? value(at, 'time', cells[2], 'latency') : null);
  });
  if (tr.times.length === 0) return fail(`expected at least one time,bandwidth line in ${path}, found none`);
  return tr;
}
