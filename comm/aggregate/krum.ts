/**
 * Krum and Multi-Krum (Blanchard, El Mhamdi, Guerraoui, Stainer 2017).
 *
 * score(i) = sum of the squared distances from x_i to its n - f - 2 nearest other vectors.
 * Krum returns the vector of lowest score; Multi-Krum(m) averages the m vectors of lowest score
 * (scores computed once, as in the paper's Multi-Krum). Requires n > 2f + 2 (the paper's
 * condition n >= 2f + 3) and 1 <= m <= n - f.
 *
 * Ties: equal scores are ordered by worker index (the lower index wins), so the choice is a
 * function of the inputs only. A distance that is NaN (a vector with NaN) counts as +Infinity.
 * Distances and scores are float64; Multi-Krum's average is accumulated in float64 over the
 * chosen vectors in ascending worker order.
 */
import { ParameterError } from '../param-error.ts';
import { checkShapes, orderable, sortAscending, type Aggregator } from './aggregator.ts';

/** Throws a ParameterError unless f (and m, for Multi-Krum) suit n workers. */
export function validateKrum(n: number, f: number, m?: number): void {
  const maxF = Math.floor((n - 3) / 2);
  if (!Number.isInteger(f) || f < 0 || n <= 2 * f + 2) {
    const allowed = maxF >= 0 ? `0 <= f <= ${maxF}` : 'no f at all (Krum needs n >= 3)';
    throw new ParameterError('f', `an integer f with n > 2f + 2 for n = ${n} workers, i.e. ${allowed}`, String(f));
  }
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > n - f)) {
    throw new ParameterError('m', `an integer 1 <= m <= n - f = ${n - f}`, String(m));
  }
}

export class KrumAggregator implements Aggregator {
  readonly name: string;
  /** Scores of the last call, one per input. */
  scores = new Float64Array(0);
  /** The inputs chosen by the last call, ascending; `selectedCount` of them are valid. */
  selected = new Int32Array(0);
  selectedCount = 0;
  private dist = new Float64Array(0);
  private row = new Float64Array(0);
  private acc = new Float64Array(0);
  private picked = new Uint8Array(0);

  /** m = 1 is Krum; m > 1 is Multi-Krum. */
  constructor(
    readonly n: number,
    readonly f: number,
    readonly m = 1,
  ) {
    validateKrum(n, f, m);
    this.name = m === 1 ? `krum(f=${f})` : `multi-krum(f=${f}, m=${m})`;
  }

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const n = inputs.length;
    if (n !== this.n) throw new Error(`${this.name}: built for ${this.n} inputs, given ${n}`);
    if (this.dist.length !== n * n) {
      this.dist = new Float64Array(n * n);
      this.row = new Float64Array(n - 1);
      this.scores = new Float64Array(n);
      this.selected = new Int32Array(this.m);
      this.picked = new Uint8Array(n);
    }
    const d = out.length;
    const dist = this.dist;
    for (let i = 0; i < n; i++) {
      const xi = inputs[i]!;
      for (let j = i + 1; j < n; j++) {
        const xj = inputs[j]!;
        let s = 0;
        for (let k = 0; k < d; k++) {
          const t = xi[k]! - xj[k]!;
          s += t * t;
        }
        s = orderable(s);
        dist[i * n + j] = s;
        dist[j * n + i] = s;
      }
    }
    const near = n - this.f - 2;
    const row = this.row;
    for (let i = 0; i < n; i++) {
      let c = 0;
      for (let j = 0; j < n; j++) if (j !== i) row[c++] = dist[i * n + j]!;
      sortAscending(row, n - 1);
      let s = 0;
      for (let j = 0; j < near; j++) s += row[j]!;
      this.scores[i] = s;
    }
    this.select(n);
    if (this.m === 1) {
      out.set(inputs[this.selected[0]!]!);
      return;
    }
    if (this.acc.length !== d) this.acc = new Float64Array(d);
    const acc = this.acc;
    acc.fill(0);
    for (let c = 0; c < this.m; c++) {
      const x = inputs[this.selected[c]!]!;
      for (let k = 0; k < d; k++) acc[k] = acc[k]! + x[k]!;
    }
    const inv = 1 / this.m;
    for (let k = 0; k < d; k++) out[k] = acc[k]! * inv;
  }

  /** The m lowest scores, ties to the lower index; stored ascending by index. */
  private select(n: number): void {
    const picked = this.picked;
    picked.fill(0);
    for (let c = 0; c < this.m; c++) {
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (picked[i] === 0 && (best < 0 || this.scores[i]! < this.scores[best]!)) best = i;
      }
      picked[best] = 1;
    }
    let c = 0;
    for (let i = 0; i < n; i++) if (picked[i] === 1) this.selected[c++] = i;
    this.selectedCount = c;
  }
}
