/**
 * Mixing matrices for gossip averaging on an undirected graph: W is n x n, W_ij > 0 only when
 * i = j or i ~ j (a node mixes only what its neighbours sent it), symmetric and doubly stochastic
 * (rows and columns sum to 1), so x <- W x keeps the average and, on a connected graph with a
 * second-largest eigenvalue modulus below 1, contracts to it.
 *
 *  - Metropolis-Hastings (the default; Xiao & Boyd 2004, Boyd et al. 2004):
 *      W_ij = 1 / (1 + max(d_i, d_j)) for i ~ j,  W_ii = 1 - sum_{j ~ i} W_ij.
 *    Symmetric and doubly stochastic on every graph, with a positive diagonal.
 *  - uniform: W_ij = 1 / (d_i + 1) for j in N(i) and j = i. Rows always sum to 1; it is
 *    symmetric (hence doubly stochastic) only when adjacent nodes have equal degrees, i.e. on a
 *    regular graph when connected. Refused otherwise.
 *  - user-given: any matrix, checked against the graph's pattern, symmetry and stochasticity
 *    within a tolerance (default 1e-6, so 0.333333 for 1/3 passes).
 */
import { ParameterError } from '../param-error.ts';
import type { Adjacency } from './graph.ts';
import { validateGraph } from './graph.ts';

export class MixingMatrix {
  /** Row i's non-zero columns ascending (self included) and their weights. */
  readonly rowIndex: readonly Int32Array[];
  readonly rowWeight: readonly Float64Array[];

  /** w: row-major n x n. Use the builders below; they validate. */
  constructor(
    readonly n: number,
    readonly w: Float64Array,
  ) {
    const idx: Int32Array[] = [];
    const wt: Float64Array[] = [];
    for (let i = 0; i < n; i++) {
      const cols: number[] = [];
      for (let j = 0; j < n; j++) if (w[i * n + j] !== 0) cols.push(j);
      idx.push(Int32Array.from(cols));
      wt.push(Float64Array.from(cols, (j) => w[i * n + j]!));
    }
    this.rowIndex = idx;
    this.rowWeight = wt;
  }

  at(i: number, j: number): number {
    return this.w[i * this.n + j]!;
  }
}

export function metropolisHastings(adj: Adjacency): MixingMatrix {
  validateGraph(adj);
  const n = adj.length;
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (const j of adj[i]!) {
      const v = 1 / (1 + Math.max(adj[i]!.length, adj[j]!.length));
      w[i * n + j] = v;
      off += v;
    }
    w[i * n + i] = 1 - off;
  }
  return new MixingMatrix(n, w);
}

export function uniformWeights(adj: Adjacency, key = 'mixing'): MixingMatrix {
  validateGraph(adj);
  const n = adj.length;
  for (let i = 0; i < n; i++) {
    for (const j of adj[i]!) {
      if (adj[j]!.length !== adj[i]!.length) {
        throw new ParameterError(
          key,
          'uniform weights 1/(deg+1) only on a graph whose neighbours have equal degrees (otherwise W is not doubly stochastic; use metropolis-hastings)',
          `node ${i} has degree ${adj[i]!.length}, its neighbour ${j} degree ${adj[j]!.length}`,
        );
      }
    }
  }
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const v = 1 / (adj[i]!.length + 1);
    w[i * n + i] = v;
    for (const j of adj[i]!) w[i * n + j] = v;
  }
  return new MixingMatrix(n, w);
}

/** (1/n) 1 1^T: exact averaging in one step (the complete graph; equals an all-reduce mean). */
export function averagingMatrix(n: number): MixingMatrix {
  return new MixingMatrix(n, new Float64Array(n * n).fill(1 / n));
}

/** A user's matrix (rows of numbers), validated against the graph. */
export function userMatrix(rows: readonly (readonly number[])[], adj: Adjacency, tol = 1e-6, key = 'mixing.weights'): MixingMatrix {
  validateGraph(adj);
  const n = adj.length;
  if (rows.length !== n) throw new ParameterError(key, `${n} rows (one per worker)`, `${rows.length} rows`);
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.length !== n) throw new ParameterError(`${key}[${i}]`, `${n} entries`, `${r.length}`);
    for (let j = 0; j < n; j++) {
      const v = r[j]!;
      if (!Number.isFinite(v)) throw new ParameterError(`${key}[${i}][${j}]`, 'a finite number', String(v));
      if (v !== 0 && i !== j && !adj[i]!.includes(j)) {
        throw new ParameterError(`${key}[${i}][${j}]`, `0 (workers ${i} and ${j} are not neighbours)`, String(v));
      }
      w[i * n + j] = v;
    }
  }
  const m = new MixingMatrix(n, w);
  checkMixingMatrix(m, tol, key);
  return m;
}

/**
 * Throws ParameterError naming the first entry, row or column that is not symmetric,
 * negative, or not summing to 1 within tol. Negative weights are refused: with them
 * contraction is not guaranteed by the graph alone, and none of the standard constructions
 * needs them.
 */
export function checkMixingMatrix(m: MixingMatrix, tol = 1e-6, key = 'mixing.weights'): void {
  const { n, w } = m;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = w[i * n + j]!;
      if (v < -tol) throw new ParameterError(`${key}[${i}][${j}]`, 'a weight >= 0', String(v));
      if (j > i && Math.abs(v - w[j * n + i]!) > tol) {
        throw new ParameterError(`${key}[${i}][${j}]`, `a symmetric matrix: equal to [${j}][${i}] = ${w[j * n + i]}`, String(v));
      }
      // Who talks to whom follows the non-zero pattern, so it must be exactly symmetric: with
      // W_ij = 0 but W_ji = 5e-7 (symmetric within tol) j would wait for a message i never sends.
      if (j > i && (v === 0) !== (w[j * n + i] === 0)) {
        throw new ParameterError(`${key}[${i}][${j}]`, `0 exactly when [${j}][${i}] is 0 (the pair exchanges messages in both directions or neither)`, `${v}, with [${j}][${i}] = ${w[j * n + i]}`);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < n; j++) {
      row += w[i * n + j]!;
      col += w[j * n + i]!;
    }
    if (Math.abs(row - 1) > tol) throw new ParameterError(`${key}[${i}]`, `a doubly stochastic matrix: row ${i} summing to 1 (tolerance ${tol})`, `sum ${row}`);
    if (Math.abs(col - 1) > tol) throw new ParameterError(key, `a doubly stochastic matrix: column ${i} summing to 1 (tolerance ${tol})`, `sum ${col}`);
  }
}
