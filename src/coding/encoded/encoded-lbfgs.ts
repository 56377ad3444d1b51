/**
 * L-BFGS on encoded least squares with stragglers (the "encoded L-BFGS" option of Karakus et al.
 * 2017): each step the master has the partial gradients of the k blocks that arrived, A_t.
 *
 *   gradient  g_t = (n/k) sum_{b in A_t} X_b^T (X_b w_t - y_b)         (as EncodedLeastSquares)
 *   curvature s = w_t - w_{t-1},  y = (n/|B|) sum_{b in B} (grad_b(w_t) - grad_b(w_{t-1})),
 *             B = A_t ∩ A_{t-1}: only blocks seen at both points, so y is a difference of the
 *             same function (a mixed set would put the stragglers' pattern into the curvature)
 *   direction d = -H g by the two-loop recursion over the last `memory` pairs, initial scaling
 *             gamma = s.y / y.y of the newest pair (1 before any); a pair with
 *             s.y <= 1e-12 ||s|| ||y|| (or B empty) is skipped
 *   step      w <- w + lr d   (fixed step; lr = 1 is the quasi-Newton step)
 *
 * Float64; all state preallocated, a step allocates nothing.
 */
import type { EncodedLeastSquares } from './encoded-least-squares.ts';

export class EncodedLbfgs {
  private readonly p: number;
  private readonly n: number;
  private readonly sHist: Float64Array;
  private readonly yHist: Float64Array;
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private pairs = 0;
  private newest = -1;
  private readonly cur: Float64Array;
  private readonly prev: Float64Array;
  private readonly inPrev: Uint8Array;
  private readonly inCur: Uint8Array;
  private readonly wPrev: Float64Array;
  private hasPrev = false;
  private readonly g: Float64Array;
  private readonly q: Float64Array;
  private readonly yNew: Float64Array;
  /** Curvature pairs accepted so far (for tests and metrics). */
  acceptedPairs = 0;

  /**
   * lsq: the data, for `step`; a master that receives the blocks' gradients from its workers
   * (`stepFromBlocks`) gives only the sizes { p, workers }.
   */
  constructor(
    readonly lsq: EncodedLeastSquares | { readonly p: number; readonly workers: number },
    readonly memory = 10,
  ) {
    this.p = lsq.p;
    this.n = lsq.workers;
    const { p, n } = this;
    this.sHist = new Float64Array(memory * p);
    this.yHist = new Float64Array(memory * p);
    this.rho = new Float64Array(memory);
    this.alpha = new Float64Array(memory);
    this.cur = new Float64Array(n * p);
    this.prev = new Float64Array(n * p);
    this.inPrev = new Uint8Array(n);
    this.inCur = new Uint8Array(n);
    this.wPrev = new Float64Array(p);
    this.g = new Float64Array(p);
    this.q = new Float64Array(p);
    this.yNew = new Float64Array(p);
  }

  step(w: Float64Array, active: ArrayLike<number>, lr: number): void {
    const { p, cur } = this;
    const lsq = this.lsq;
    if (!('addBlockGradient' in lsq)) throw new Error('EncodedLbfgs.step needs the data; use stepFromBlocks');
    for (let i = 0; i < active.length; i++) {
      const b = active[i]!;
      cur.fill(0, b * p, (b + 1) * p);
      lsq.addBlockGradient(b, w, cur, 1, b * p);
    }
    this.update(w, active, lr);
  }

  /**
   * The same step from the blocks' gradients computed elsewhere (the workers): blocks[b*p ..
   * (b+1)*p) holds block b's gradient at w for every b in `active` (other entries are not read).
   */
  stepFromBlocks(w: Float64Array, active: ArrayLike<number>, blocks: Float64Array, lr: number): void {
    const { p, cur } = this;
    for (let i = 0; i < active.length; i++) {
      const b = active[i]!;
      for (let c = 0; c < p; c++) cur[b * p + c] = blocks[b * p + c]!;
    }
    this.update(w, active, lr);
  }

  private update(w: Float64Array, active: ArrayLike<number>, lr: number): void {
    const { p, n, cur, g } = this;
    this.inCur.fill(0);
    g.fill(0);
    const k = active.length;
    for (let i = 0; i < k; i++) {
      const b = active[i]!;
      this.inCur[b] = 1;
      for (let c = 0; c < p; c++) g[c] = g[c]! + (n / k) * cur[b * p + c]!;
    }
    if (this.hasPrev) this.addPair(w);
    this.direction();
    for (let c = 0; c < p; c++) {
      this.wPrev[c] = w[c]!;
      w[c] = w[c]! + lr * this.q[c]!;
    }
    for (let b = 0; b < n; b++) {
      this.inPrev[b] = this.inCur[b]!;
      if (this.inCur[b]) for (let c = 0; c < p; c++) this.prev[b * p + c] = cur[b * p + c]!;
    }
    this.hasPrev = true;
  }

  private addPair(w: Float64Array): void {
    const { p, n } = this;
    let common = 0;
    for (let b = 0; b < n; b++) if (this.inCur[b] && this.inPrev[b]) common++;
    if (common === 0) return;
    const y = this.yNew;
    y.fill(0);
    for (let b = 0; b < n; b++) {
      if (!(this.inCur[b] && this.inPrev[b])) continue;
      for (let c = 0; c < p; c++) y[c] = y[c]! + (n / common) * (this.cur[b * p + c]! - this.prev[b * p + c]!);
    }
    let sy = 0;
    let ss = 0;
    let yy = 0;
    for (let c = 0; c < p; c++) {
      const s = w[c]! - this.wPrev[c]!;
      sy += s * y[c]!;
      ss += s * s;
      yy += y[c]! * y[c]!;
    }
    if (!(sy > 1e-12 * Math.sqrt(ss * yy))) return;
    const slot = (this.newest + 1) % this.memory;
    for (let c = 0; c < p; c++) {
      this.sHist[slot * p + c] = w[c]! - this.wPrev[c]!;
      this.yHist[slot * p + c] = y[c]!;
    }
    this.rho[slot] = 1 / sy;
    this.newest = slot;
    if (this.pairs < this.memory) this.pairs++;
    this.acceptedPairs++;
  }

  /** q <- -H g (two-loop recursion). */
  private direction(): void {
    const { p, q, g, sHist, yHist, rho, alpha, memory } = this;
    for (let c = 0; c < p; c++) q[c] = g[c]!;
    for (let i = 0; i < this.pairs; i++) {
      const slot = (this.newest - i + memory) % memory;
      let a = 0;
      for (let c = 0; c < p; c++) a += sHist[slot * p + c]! * q[c]!;
      a *= rho[slot]!;
      alpha[slot] = a;
      for (let c = 0; c < p; c++) q[c] = q[c]! - a * yHist[slot * p + c]!;
    }
    let gamma = 1;
    if (this.pairs > 0) {
      let yy = 0;
      for (let c = 0; c < p; c++) yy += yHist[this.newest * p + c]! ** 2;
      gamma = 1 / (rho[this.newest]! * yy);
    }
    for (let c = 0; c < p; c++) q[c] = q[c]! * gamma;
    for (let i = this.pairs - 1; i >= 0; i--) {
      const slot = (this.newest - i + memory) % memory;
      let bta = 0;
      for (let c = 0; c < p; c++) bta += yHist[slot * p + c]! * q[c]!;
      bta *= rho[slot]!;
      for (let c = 0; c < p; c++) q[c] = q[c]! + (alpha[slot]! - bta) * sHist[slot * p + c]!;
    }
    for (let c = 0; c < p; c++) q[c] = -q[c]!;
  }
}
