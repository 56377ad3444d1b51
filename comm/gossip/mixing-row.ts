/**
 * One worker's row of the mixing matrix W, built sparsely from the adjacency lists: what a worker
 * of a large graph needs without forming the dense n x n matrix (8n^2 bytes per worker). The
 * weights are computed with the same arithmetic, in the same order, as the dense builders of
 * mixing-matrix.ts, so a row here equals the dense matrix's row bit for bit (tested).
 */
import { ParameterError } from '../param-error.ts';
import type { Adjacency } from './graph.ts';
import { userMatrix } from './mixing-matrix.ts';
import { requireContraction } from './spectral.ts';

/** How W is chosen: a named rule, or an explicit matrix (rows of numbers). */
export type MixingSpec = 'metropolis-hastings' | 'uniform' | 'averaging' | { weights: readonly (readonly number[])[] };

/** Row i of W: its non-zero columns ascending (i itself included) and their weights. */
export interface MixingRow {
  index: Int32Array;
  weight: Float64Array;
}

/**
 * Check that `spec` gives a symmetric, doubly stochastic W with W_ij = 0 off the graph (the
 * graph is checked connected by the caller), and for a user's W that it contracts (second-largest
 * eigenvalue modulus < 1). ParameterError naming the key otherwise. O(edges) for the named
 * rules, which contract on every connected graph (positive diagonal).
 */
export function checkMixing(spec: MixingSpec, adj: Adjacency, key = 'mixing'): void {
  const n = adj.length;
  if (typeof spec === 'object') {
    // A user's W may be valid entry by entry and still not mix (block-diagonal: lambda_2 = 1).
    requireContraction(userMatrix(spec.weights, adj, 1e-6, `${key}.weights`), 1e-9, `${key}.weights`);
    return;
  }
  if (spec === 'uniform') {
    for (let i = 0; i < n; i++) {
      for (const j of adj[i]!) {
        if (adj[j]!.length !== adj[i]!.length) {
          throw new ParameterError(
            key,
            'uniform weights 1/(degree+1) only on a graph whose neighbours have equal degrees (otherwise W is not doubly stochastic; use metropolis-hastings)',
            `worker ${i} has degree ${adj[i]!.length}, its neighbour ${j} degree ${adj[j]!.length}`,
          );
        }
      }
    }
  }
  if (spec === 'averaging') {
    for (let i = 0; i < n; i++) {
      if (adj[i]!.length !== n - 1) {
        throw new ParameterError(key, `averaging (W = 11^T/n) only on a complete graph (every worker a neighbour of every other)`, `worker ${i} has ${adj[i]!.length} of ${n - 1} neighbours`);
      }
    }
  }
}

/** Row i of W for `spec` (checked beforehand by checkMixing). */
export function mixingRow(spec: MixingSpec, adj: Adjacency, i: number): MixingRow {
  const n = adj.length;
  const nb = adj[i]!;
  if (typeof spec === 'object') {
    const r = spec.weights[i]!;
    const cols: number[] = [];
    for (let j = 0; j < n; j++) if (r[j] !== 0) cols.push(j);
    return { index: Int32Array.from(cols), weight: Float64Array.from(cols, (j) => r[j]!) };
  }
  const w = new Map<number, number>();
  if (spec === 'metropolis-hastings') {
    // As metropolisHastings(): off-diagonal 1/(1 + max degree), summed in adjacency order.
    let off = 0;
    for (const j of nb) {
      const v = 1 / (1 + Math.max(nb.length, adj[j]!.length));
      w.set(j, v);
      off += v;
    }
    w.set(i, 1 - off);
  } else if (spec === 'uniform') {
    const v = 1 / (nb.length + 1);
    w.set(i, v);
    for (const j of nb) w.set(j, v);
  } else {
    for (let j = 0; j < n; j++) w.set(j, 1 / n);
  }
  const cols = [...w.keys()].filter((j) => w.get(j) !== 0).sort((a, b) => a - b);
  return { index: Int32Array.from(cols), weight: Float64Array.from(cols, (j) => w.get(j)!) };
}
