/**
 * Subsampled randomized Hadamard encoding: S = D H P / sqrt(M), where H is the M x M
 * Sylvester-Hadamard matrix (entries +-1, H^T H = M I), P selects N of its M columns (seeded,
 * without replacement, kept ascending) and D is a seeded diagonal of random signs. The N columns
 * of H / sqrt(M) are orthonormal, so S^T S = I exactly: a tight frame (the "subsampled Hadamard"
 * encoding of Karakus et al.). Needs M = beta N to be a power of two; other sizes are refused
 * with the nearest valid betas. Applied in O(M log M) per data column by the fast
 * Walsh-Hadamard transform, never as a dense matrix unless asked for.
 */
import { ParameterError } from '../../../comm/param-error.ts';
import { Rng } from '../../util/rng.ts';
import type { Encoding } from './encoding.ts';
import { isPowerOfTwo } from './sizes.ts';
import { checkRedundancy } from './validate.ts';

/** In-place unnormalised Walsh-Hadamard transform of v[0..m), m a power of two (Sylvester order). */
export function fwht(v: Float64Array, m: number): void {
  for (let h = 1; h < m; h <<= 1) {
    for (let i = 0; i < m; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const a = v[j]!;
        const b = v[j + h]!;
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
}

/**
 * M = beta N for the Hadamard encoding of N data rows, or a ParameterError when it is not a power
 * of two (at most 2^30); allocates nothing, so config rules can ask before the run's memory check.
 */
export function hadamardRows(cols: number, beta: number): number {
  checkRedundancy(cols, beta);
  // beta is usually written as M / N (e.g. 256 / 99): undo its rounding before the size check.
  const exact = beta * cols;
  const m = Math.abs(exact - Math.round(exact)) < 1e-9 * exact ? Math.round(exact) : exact;
  if (m > 2 ** 30) throw new ParameterError('beta', `beta * N at most 2^30 for the hadamard encoding (N = ${cols})`, `${beta} (M = ${m})`);
  if (!isPowerOfTwo(m)) {
    const lo = 2 ** Math.floor(Math.log2(m));
    const valid = [lo, 2 * lo].filter((v) => v >= cols && v <= 2 ** 30).map((v) => `${v / cols} (M = ${v})`);
    throw new ParameterError('beta', `beta * N a power of two for the hadamard encoding (N = ${cols}): e.g. beta = ${valid.join(' or ')}`, `${beta} (M = ${m})`);
  }
  return m;
}

export class HadamardEncoding implements Encoding {
  readonly name: string;
  readonly rows: number;
  /** Chosen columns of H, ascending. */
  readonly columns: Int32Array;
  /** Row signs (+1 / -1). */
  readonly signs: Float64Array;

  constructor(
    readonly cols: number,
    beta: number,
    seed: number,
  ) {
    const m = hadamardRows(cols, beta);
    this.rows = m;
    this.name = `hadamard(M=${m})`;
    const rng = new Rng(seed, 'encoding', 'hadamard');
    const perm = rng.shuffle(Int32Array.from({ length: m }, (_, i) => i));
    this.columns = perm.slice(0, cols).sort();
    this.signs = Float64Array.from({ length: m }, () => (rng.next() < 0.5 ? -1 : 1));
  }

  encode(x: Float64Array, p: number): Float64Array {
    const { rows: m, cols: n } = this;
    if (x.length !== n * p) throw new Error(`${this.name}: data has ${x.length} entries, expected ${n} x ${p}`);
    const out = new Float64Array(m * p);
    const v = new Float64Array(m);
    const scale = 1 / Math.sqrt(m);
    for (let c = 0; c < p; c++) {
      v.fill(0);
      for (let j = 0; j < n; j++) v[this.columns[j]!] = x[j * p + c]!;
      fwht(v, m);
      for (let r = 0; r < m; r++) out[r * p + c] = this.signs[r]! * scale * v[r]!;
    }
    return out;
  }

  dense(): Float64Array {
    const { rows: m, cols: n } = this;
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    return this.encode(eye, n);
  }
}
