/**
 * Gradient descent on encoded least squares, oblivious to the encoding (Karakus et al. 2017):
 * the master holds blocks of rows of (S X, S y), one per worker; each step it uses the blocks of
 * the first k workers to answer, A, and steps on
 *
 *   f_A(w) = 1/(2 eta) ||S_A (X w - y)||^2,   eta = k / n_workers,
 *   grad f_A(w) = (1/eta) sum_{b in A} X_b^T (X_b w - y_b),
 *
 * which is the full encoded objective's gradient rescaled to the fraction of rows that arrived.
 * With S^T S = I and every block present, f_A(w) = f(w) = 1/2 ||X w - y||^2 exactly.
 * Float64 throughout; a step allocates nothing.
 */
import { splitRows } from './encoding.ts';

export class EncodedLeastSquares {
  /** Row bounds of the workers' blocks: worker b has rows [bounds[b], bounds[b+1]). */
  readonly bounds: Int32Array;
  private readonly resid: Float64Array;

  /** x: row-major m x p (encoded or not); y: m. */
  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    readonly m: number,
    readonly p: number,
    readonly workers: number,
  ) {
    if (x.length !== m * p || y.length !== m) throw new Error(`EncodedLeastSquares: expected ${m} x ${p} data and ${m} targets`);
    if (!(Number.isInteger(workers) && workers >= 1 && workers <= m)) throw new Error(`EncodedLeastSquares: ${workers} workers for ${m} rows`);
    this.bounds = splitRows(m, workers);
    this.resid = new Float64Array(m);
  }

  /** One worker's partial gradient scale * X_b^T (X_b w - y_b), accumulated into out[at..at+p) (+=). */
  addBlockGradient(b: number, w: Float64Array, out: Float64Array, scale = 1, at = 0): void {
    const { x, y, p } = this;
    for (let r = this.bounds[b]!; r < this.bounds[b + 1]!; r++) {
      let s = -y[r]!;
      const o = r * p;
      for (let c = 0; c < p; c++) s += x[o + c]! * w[c]!;
      s *= scale;
      for (let c = 0; c < p; c++) out[at + c] = out[at + c]! + s * x[o + c]!;
    }
  }

  /** out = grad f_A(w) for the blocks in `active` (k of them; summed in the order given). */
  gradient(w: Float64Array, active: ArrayLike<number>, out: Float64Array): void {
    out.fill(0);
    const inv = this.workers / active.length; // 1 / eta
    for (let i = 0; i < active.length; i++) this.addBlockGradient(active[i]!, w, out, inv);
  }

  /** w <- w - lr grad f_A(w); `grad` is scratch of length p. */
  step(w: Float64Array, active: ArrayLike<number>, lr: number, grad: Float64Array): void {
    this.gradient(w, active, grad);
    for (let c = 0; c < this.p; c++) w[c] = w[c]! - lr * grad[c]!;
  }

  /** 1/2 ||X w - y||^2 over all rows. */
  objective(w: Float64Array): number {
    const { x, y, p, m } = this;
    let f = 0;
    for (let r = 0; r < m; r++) {
      let s = -y[r]!;
      for (let c = 0; c < p; c++) s += x[r * p + c]! * w[c]!;
      this.resid[r] = s;
      f += s * s;
    }
    return 0.5 * f;
  }
}
