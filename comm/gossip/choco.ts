/**
 * CHOCO-SGD's consensus update (Koloskova, Stich, Jaggi, ICML 2019, Algorithm 1), one worker's
 * side. Worker i keeps public copies x_hat_j for itself and each neighbour j. After its local
 * step x_half = x - lr g:
 *
 *   q_i   = Q(x_half - x_hat_i)                    sent to every neighbour (compressed bytes)
 *   x_hat_j += q_j   for j in N(i) and j = i       (from what the neighbours sent)
 *   x_i   = x_half + gamma sum_j W_ij (x_hat_j - x_hat_i)
 *
 * With Q the identity and gamma = 1, x_hat_j = x_half_j after the update and the last line is
 * sum_j W_ij x_half_j: the gossip step of D-PSGD in Koloskova et al.'s form
 * x_i <- sum_j W_ij (x_j - lr g_j) (tested, to float32 rounding: x_hat + (x_half - x_hat) may differ
 * from x_half by an ulp). Lian et al.'s original D-PSGD mixes the pre-step models and then applies
 * the local gradient; the mixing kernel is the same (`mixRow`).
 *
 * The compressor is a function `(delta, out) => void` that writes the decoded Q(delta), i.e.
 * exactly what the neighbours reconstruct from the bytes; the algorithm that owns the wire format
 * encodes the same delta. x_hat starts at 0 (the paper's initialisation). No allocation per step.
 */
export type DecodedCompressor = (delta: Float32Array, out: Float32Array) => void;

export class ChocoGossip {
  /** x_hat for each column of the node's row, in the row's (ascending worker) order. */
  readonly xHat: Float32Array[];
  private readonly self: number;
  private readonly delta: Float32Array;
  /** The decoded q_i of the last `prepare`: what this node sends. */
  readonly q: Float32Array;

  /**
   * neighbours: the node's row of W as (ascending worker indices incl. itself, weights), e.g.
   * `MixingMatrix.rowIndex[i]` and `rowWeight[i]`.
   */
  constructor(
    readonly node: number,
    readonly neighbours: Int32Array,
    readonly weights: Float64Array,
    readonly d: number,
  ) {
    this.self = neighbours.indexOf(node);
    if (this.self < 0) throw new Error(`choco: node ${node} is missing from its own row`);
    this.xHat = Array.from(neighbours, () => new Float32Array(d));
    this.delta = new Float32Array(d);
    this.q = new Float32Array(d);
  }

  /** q_i = Q(x_half - x_hat_i); x_hat_i += q_i. Returns q_i (owned by this object; send it). */
  prepare(xHalf: Float32Array, compress: DecodedCompressor): Float32Array {
    const own = this.xHat[this.self]!;
    for (let k = 0; k < this.d; k++) this.delta[k] = xHalf[k]! - own[k]!;
    compress(this.delta, this.q);
    for (let k = 0; k < this.d; k++) own[k] = own[k]! + this.q[k]!;
    return this.q;
  }

  /** x_hat_j += q_j for neighbour j (a worker index in the row, not itself). */
  receive(j: number, qj: Float32Array): void {
    const c = this.neighbours.indexOf(j);
    if (c < 0 || c === this.self) throw new Error(`choco: ${j} is not a neighbour of ${this.node}`);
    const h = this.xHat[c]!;
    for (let k = 0; k < this.d; k++) h[k] = h[k]! + qj[k]!;
  }

  /** out = x_half + gamma sum_j W_ij (x_hat_j - x_hat_i) (out may alias x_half). */
  mix(xHalf: Float32Array, gamma: number, out: Float32Array): void {
    const own = this.xHat[this.self]!;
    const m = this.neighbours.length;
    for (let k = 0; k < this.d; k++) {
      const hi = own[k]!;
      let s = 0;
      for (let c = 0; c < m; c++) s += this.weights[c]! * (this.xHat[c]![k]! - hi);
      out[k] = xHalf[k]! + gamma * s;
    }
  }
}

/** The identity "compressor": out = delta. */
export const identityCompressor: DecodedCompressor = (delta, out) => out.set(delta);
