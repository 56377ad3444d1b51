import { LinkSet } from './link-set.ts';
import { ShortestPaths } from './routing.ts';
import type { Link, LinkSpec, Topology } from './topology.ts';
import { TopologyError } from './topology.ts';

/** One undirected edge of a graph topology, optionally with its own bandwidth and latency. */
export interface GraphEdge {
  a: number;
  b: number;
  bandwidth?: number;
  latency?: number;
  /** Gossip mixing weight W_ab = W_ba (read by `mixing: graph`); the network ignores it. */
  weight?: number;
}

export type GeneratedGraph =
  | { kind: 'ring-lattice'; k: number }
  | { kind: 'grid'; dims: readonly number[] }
  | { kind: 'exponential' }
  | { kind: 'erdos-renyi'; p: number; seed: number };

/** mulberry32: a small seeded generator so Erdős–Rényi graphs are a function of the seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Edges of the regular graphs decentralized-SGD papers use: a ring lattice where each node links
 * to its k/2 nearest neighbours on each side (k even); a 2-D grid without wrap-around; the
 * exponential graph (i linked to i + 2^j mod n, j = 0, 1, ...); Erdős–Rényi G(n, p) from the seed.
 */
export function generateEdges(n: number, g: GeneratedGraph): GraphEdge[] {
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (a: number, b: number) => {
    if (a === b) return;
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ a: Math.min(a, b), b: Math.max(a, b) });
  };
  switch (g.kind) {
    case 'ring-lattice':
      if (!Number.isInteger(g.k) || g.k < 2 || g.k % 2 !== 0 || g.k >= n) {
        throw new TopologyError(['topology', 'generate', 'k'], `expected an even degree k with 2 <= k < workers (${n}), found ${g.k}`);
      }
      for (let i = 0; i < n; i++) for (let d = 1; d <= g.k / 2; d++) add(i, (i + d) % n);
      break;
    case 'grid': {
      const [w, h] = g.dims;
      if (g.dims.length !== 2 || w! * h! !== n) throw new TopologyError(['topology', 'generate', 'dims'], `expected two dimensions whose product is workers (${n}), found [${g.dims.join(', ')}]`);
      for (let y = 0; y < h!; y++)
        for (let x = 0; x < w!; x++) {
          if (x + 1 < w!) add(y * w! + x, y * w! + x + 1);
          if (y + 1 < h!) add(y * w! + x, (y + 1) * w! + x);
        }
      break;
    }
    case 'exponential':
      for (let i = 0; i < n; i++) for (let d = 1; d < n; d *= 2) add(i, (i + d) % n);
      break;
    case 'erdos-renyi': {
      if (!(g.p > 0 && g.p <= 1)) throw new TopologyError(['topology', 'generate', 'p'], `expected a probability in (0, 1], found ${g.p}`);
      const rand = mulberry32(g.seed ^ 0x9e3779b9);
      for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (rand() < g.p) add(a, b);
      break;
    }
  }
  return edges;
}

/**
 * An arbitrary graph of workers: every undirected edge becomes two directed links `a->b`,
 * `b->a`. Messages follow shortest-hop routes (ties to the lowest-numbered nodes) and cut
 * through. Self-loops, unknown nodes, duplicate edges and a disconnected graph are errors;
 * `where(i)` names the source of edge i in messages (a YAML key or a file line).
 */
export function graphTopology(workers: number, spec: LinkSpec, edges: readonly GraphEdge[], where: (i: number) => (string | number)[] = (i) => ['topology', 'links', i]): Topology {
  const links = new LinkSet();
  const directed: { from: number; to: number; link: Link }[] = [];
  edges.forEach((e, i) => {
    for (const v of [e.a, e.b]) if (!Number.isInteger(v) || v < 0 || v >= workers) throw new TopologyError(where(i), `expected node ranks 0..${workers - 1}, found ${v}`);
    if (e.a === e.b) throw new TopologyError(where(i), `expected a link between two different nodes, found a self-loop on ${e.a}`);
    if (links.has(`${e.a}->${e.b}`)) throw new TopologyError(where(i), `expected each link once, found ${e.a}-${e.b} again`);
    const bw = e.bandwidth ?? spec.bandwidth;
    const lat = e.latency ?? spec.latency;
    directed.push({ from: e.a, to: e.b, link: links.add(`${e.a}->${e.b}`, bw, lat) });
    directed.push({ from: e.b, to: e.a, link: links.add(`${e.b}->${e.a}`, bw, lat) });
  });
  const paths = new ShortestPaths(workers, directed);
  const reached = paths.reachable(0);
  if (reached !== workers) {
    throw new TopologyError(where(edges.length).slice(0, 2), `expected a connected graph, found ${workers - reached} of ${workers} nodes unreachable from node 0`);
  }
  return {
    kind: 'graph',
    workers,
    hasServer: false,
    forwarding: 'cut',
    links: links.all(),
    route: (from, to) => paths.route(from, to),
  };
}
