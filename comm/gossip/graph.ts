/**
 * Undirected graphs as adjacency lists (neighbour i of node u: adj[u][i]), the form a gossip
 * topology hands to the mixing-matrix builders. Checked here because a file can say anything.
 */
import { ParameterError } from '../param-error.ts';

export type Adjacency = readonly (readonly number[])[];

/** Throws ParameterError (key `topology`) unless adj is a simple undirected graph on 0..n-1. */
export function validateGraph(adj: Adjacency, key = 'topology'): void {
  const n = adj.length;
  if (n === 0) throw new ParameterError(key, 'a graph with at least one node', 'no nodes');
  for (let u = 0; u < n; u++) {
    const seen = new Set<number>();
    for (const v of adj[u]!) {
      if (!Number.isInteger(v) || v < 0 || v >= n) throw new ParameterError(key, `neighbours in 0..${n - 1}`, `${v} among the neighbours of ${u}`);
      if (v === u) throw new ParameterError(key, 'no self loops', `node ${u} lists itself`);
      if (seen.has(v)) throw new ParameterError(key, 'each edge listed once per endpoint', `${u} lists ${v} twice`);
      seen.add(v);
      if (!adj[v]!.includes(u)) throw new ParameterError(key, 'an undirected graph', `edge ${u}-${v} but not ${v}-${u}`);
    }
  }
}

/** Connected components, each ascending, ordered by their least node. */
export function components(adj: Adjacency): number[][] {
  const n = adj.length;
  const comp = new Int32Array(n).fill(-1);
  const out: number[][] = [];
  for (let s = 0; s < n; s++) {
    if (comp[s] !== -1) continue;
    const members = [s];
    comp[s] = out.length;
    for (let h = 0; h < members.length; h++) {
      for (const v of adj[members[h]!]!) {
        if (comp[v] === -1) {
          comp[v] = out.length;
          members.push(v);
        }
      }
    }
    out.push(members.sort((a, b) => a - b));
  }
  return out;
}

/** Gossip cannot reach consensus on a disconnected graph: refuse it, naming the pieces. */
export function requireConnected(adj: Adjacency, key = 'topology'): void {
  const c = components(adj);
  if (c.length > 1) {
    const show = c.slice(0, 3).map((m) => `{${m.length > 6 ? `${m.slice(0, 6).join(', ')}, ...` : m.join(', ')}}`);
    throw new ParameterError(key, 'a connected graph for gossip', `${c.length} components ${show.join(' ')}${c.length > 3 ? ' ...' : ''}`);
  }
}

/** Ring on n nodes (each node's neighbours ascending). */
export function ringGraph(n: number): number[][] {
  if (n === 1) return [[]];
  if (n === 2) return [[1], [0]];
  return Array.from({ length: n }, (_, i) => [(i + n - 1) % n, (i + 1) % n].sort((a, b) => a - b));
}
