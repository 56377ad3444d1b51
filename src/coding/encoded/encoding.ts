/**
 * An encoding matrix S (M x N, M >= N) for encoded optimization (Karakus, Sun, Diggavi, Yin 2017,
 * 2019): the data (X, y) with N rows is replaced by (S X, S y), whose M rows are split over the
 * workers. The redundancy is beta = M / N. Every construction here is a tight frame, S^T S = I
 * exactly (Hadamard, ETF) or in expectation (Gaussian), so with every block present the encoded
 * least-squares objective ||S (X w - y)||^2 equals the uncoded one.
 */
export interface Encoding {
  /** e.g. `gaussian(beta=2)`, `hadamard(M=128)`, `etf-paley(p=101)`. */
  readonly name: string;
  /** M: encoded rows. */
  readonly rows: number;
  /** N: data rows. */
  readonly cols: number;
  /** S, row-major M x N (a fresh array). */
  dense(): Float64Array;
  /** S X for X row-major N x p; returns row-major M x p. */
  encode(x: Float64Array, p: number): Float64Array;
}

/** An encoding stored as its dense matrix. */
export class DenseEncoding implements Encoding {
  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    private readonly s: Float64Array,
  ) {
    if (s.length !== rows * cols) throw new Error(`${name}: ${s.length} entries for ${rows} x ${cols}`);
  }

  dense(): Float64Array {
    return this.s.slice();
  }

  encode(x: Float64Array, p: number): Float64Array {
    const { rows: m, cols: n, s } = this;
    if (x.length !== n * p) throw new Error(`${this.name}: data has ${x.length} entries, expected ${n} x ${p}`);
    const out = new Float64Array(m * p);
    for (let r = 0; r < m; r++) {
      const o = r * p;
      for (let j = 0; j < n; j++) {
        const sv = s[r * n + j]!;
        if (sv === 0) continue;
        const xo = j * p;
        for (let c = 0; c < p; c++) out[o + c] = out[o + c]! + sv * x[xo + c]!;
      }
    }
    return out;
  }
}

/**
 * Contiguous row blocks of M rows over w workers: [start, end) per worker, the first M mod w
 * blocks one row longer.
 */
export function splitRows(m: number, workers: number): Int32Array {
  const bounds = new Int32Array(workers + 1);
  const base = Math.floor(m / workers);
  const extra = m % workers;
  for (let i = 0; i < workers; i++) bounds[i + 1] = bounds[i]! + base + (i < extra ? 1 : 0);
  return bounds;
}
