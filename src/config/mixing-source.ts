/**
 * Gossip mixing matrices given by reference, resolved at load into the explicit form
 * `{ weights }` every worker reads (so config.yaml records the W that ran, and worker processes
 * read no files):
 * - `mixing: graph`: each link of topology.links / topology.file carries its weight W_ab = W_ba;
 *   a node keeps the rest of its row, W_ii = 1 - sum_j W_ij (so rows sum to 1 by construction and
 *   symmetry makes W doubly stochastic; a row whose links sum above 1 is refused).
 * - `mixing: { file }`: n lines of n numbers (comma- or space-separated, `#` comments) or a JSON
 *   list of n rows, relative to the experiment file.
 * The usual checks (symmetric, doubly stochastic, zero off the graph, contracting) then run on
 * the resolved matrix in the gossip rules, like an inline `{ weights }`.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { UserError } from '../util/user-error.ts';
import type { TopologyOptions } from '../../topologies/index.ts';
import { parseJsonText, readDataText } from './topology-options.ts';
import type { ExperimentConfig } from './types.ts';

type Path = (string | number)[];

export function resolveMixingSource(c: ExperimentConfig, file: string, where: (path: Path) => string, topologyOptions: () => TopologyOptions): void {
  const o = c.optimizer as Record<string, unknown>;
  const m = o['mixing'];
  const fail = (path: Path, msg: string): never => {
    throw new UserError(`${where(path)}: ${path.join('.')}: ${msg}`);
  };
  if (m === 'graph') {
    o['mixing'] = { weights: weightsFromGraph(c, topologyOptions, fail) };
  } else if (typeof m === 'object' && m !== null && typeof (m as { file?: unknown }).file === 'string') {
    const path = resolvePath(dirname(resolvePath(file)), (m as { file: string }).file);
    o['mixing'] = { weights: readMatrixFile(path, c.workers, (msg) => fail(['optimizer', 'mixing', 'file'], msg)) };
  }
}

function weightsFromGraph(c: ExperimentConfig, topologyOptions: () => TopologyOptions, fail: (path: Path, msg: string) => never): number[][] {
  const t = c.topology;
  if (t.kind !== 'graph' || (t.links === undefined && t.file === undefined)) {
    return fail(['optimizer', 'mixing'], `expected a graph topology whose links (topology.links or topology.file) carry weights for mixing: graph, found ${t.kind === 'graph' ? 'a generated graph' : `topology ${t.kind}`}`);
  }
  const edges = topologyOptions().edges ?? [];
  const n = c.workers;
  const w = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  edges.forEach((e, i) => {
    if (e.weight === undefined) {
      fail(t.file !== undefined ? ['topology', 'file'] : ['topology', 'links', i], `expected a weight on every link for optimizer.mixing: graph, found none on link ${e.a}-${e.b}`);
    }
    w[e.a]![e.b] = e.weight!;
    w[e.b]![e.a] = e.weight!;
  });
  for (let i = 0; i < n; i++) {
    let rest = 0;
    for (let j = 0; j < n; j++) if (j !== i) rest += w[i]![j]!;
    // Rounding of the link weights may leave a sum a hair above 1: the 1e-6 tolerance of the
    // doubly-stochastic check applies here too.
    if (rest > 1 + 1e-6) fail(['optimizer', 'mixing'], `expected the weights of node ${i}'s links to sum to at most 1 (it keeps 1 - their sum), found ${rest}`);
    w[i]![i] = Math.max(0, 1 - rest);
  }
  return w;
}

/** An n x n matrix from a CSV/whitespace text or JSON file; errors name the file and line. */
export function readMatrixFile(path: string, n: number, fail: (msg: string) => never): number[][] {
  const text = readDataText(path, 'mixing matrix file', fail);
  const rows: number[][] = [];
  const cell = (at: string, raw: unknown, j: number): number => {
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(v)) throw new UserError(`${at}: optimizer.mixing.file: expected a number in column ${j + 1}, found ${JSON.stringify(raw)}`);
    return v;
  };
  if (path.endsWith('.json')) {
    const data = parseJsonText(text, path, fail);
    if (!Array.isArray(data) || data.length !== n) return fail(`expected a JSON list of ${n} rows (one per worker) in ${path}, found ${Array.isArray(data) ? `${data.length} rows` : typeof data}`);
    data.forEach((r: unknown, i) => {
      const at = `${path}: [${i}]`;
      if (!Array.isArray(r) || r.length !== n) throw new UserError(`${at}: optimizer.mixing.file: expected a row of ${n} numbers, found ${Array.isArray(r) ? `${r.length} entries` : JSON.stringify(r)}`);
      rows.push(r.map((x, j) => cell(at, x, j)));
    });
    return rows;
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const body = lines[i]!.replace(/#.*/, '').trim();
    if (body === '') continue;
    const at = `${path}:${i + 1}`;
    const cells = body.split(/[\s,]+/);
    if (rows.length === n) throw new UserError(`${at}: optimizer.mixing.file: expected ${n} rows (one per worker), found more`);
    if (cells.length !== n) throw new UserError(`${at}: optimizer.mixing.file: expected a row of ${n} numbers, found ${cells.length}`);
    rows.push(cells.map((x, j) => cell(at, x, j)));
  }
  if (rows.length !== n) return fail(`expected ${n} rows (one per worker) in ${path}, found ${rows.length}`);
  return rows;
}
