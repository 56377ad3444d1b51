/**
 * Harmonic equiangular tight frames from a difference set (Xia, Zhou, Giannakis 2005; Strohmer
 * & Heath 2003). D = {d_1..d_k} in Z_v is a (v, k, lambda) difference set when every non-zero
 * residue is a difference d_a - d_b in exactly lambda ways (lambda (v - 1) = k (k - 1)).
 * Taking the k columns d_j of the v-point DFT, scaled by 1/sqrt(v), gives a complex v x k
 * matrix F with F^H F = I whose v rows f_t = (w^(t d_j))_j / sqrt(v) are equiangular:
 * |<f_s, f_t>| = sqrt(k - lambda) / v for s != t, i.e. coherence sqrt(k - lambda) / k, which is
 * the Welch bound sqrt((v - k) / (k (v - 1))).
 *
 * Real data needs a real S. For real z, sum_t |f_t z|^2 = sum_t (Re f_t z)^2 + (Im f_t z)^2, and
 * rows t and v - t are conjugate (Re equal, Im opposite), so the pair contributes
 * 2 (Re f_t z)^2 + 2 (Im f_t z)^2. Hence the real v x k matrix
 *   S = [Re f_0; sqrt2 Re f_t, sqrt2 Im f_t for 1 <= t < v/2; Re f_(v/2) if v is even]
 * has ||S z|| = ||F z||, S^T S = Re(F^H F) = I: a real tight frame with M = v rows (redundancy
 * v / k, about 2 for the sets below), equiangular in its complex form F.
 *
 * Default difference sets (Paley-Hadamard): for a prime q = 3 (mod 4), the quadratic residues
 * mod q are a (q, (q-1)/2, (q-3)/4) difference set and their complement (with 0) a
 * (q, (q+1)/2, (q+1)/4) one. So data with N rows works when 2N + 1 or 2N - 1 is such a prime
 * (N = 1..6, 9, 10, 11, 12, 15, 16, 21, 22, 23, 24, ...). Any other difference set can be given.
 */
import { ParameterError } from '../../../comm/param-error.ts';
import { DenseEncoding } from './encoding.ts';
import { isPrime, nextSatisfying, prevSatisfying } from './sizes.ts';

/** lambda if D is a (v, |D|, lambda) difference set, otherwise null. */
export function differenceSetLambda(d: readonly number[], v: number): number | null {
  const counts = new Int32Array(v);
  for (const a of d) for (const b of d) if (a !== b) counts[(((a - b) % v) + v) % v]!++;
  const lambda = counts[1]!;
  for (let r = 1; r < v; r++) if (counts[r] !== lambda) return null;
  return lambda;
}

const prime3mod4 = (q: number): boolean => isPrime(q) && q % 4 === 3;
export const harmonicDataRowsOk = (n: number): boolean => prime3mod4(2 * n + 1) || (n >= 2 && prime3mod4(2 * n - 1));

/** The quadratic residues mod q (q = 2N + 1) or their complement with 0 (q = 2N - 1), ascending. */
export function paleyDifferenceSet(n: number): { set: number[]; v: number } {
  if (!(Number.isInteger(n) && n >= 1 && harmonicDataRowsOk(n))) {
    const near = [...prevSatisfying(n, 2, harmonicDataRowsOk).reverse(), ...nextSatisfying(n + 1, 2, harmonicDataRowsOk)];
    throw new ParameterError(
      'samples',
      `a data size N with 2N + 1 or 2N - 1 a prime = 3 (mod 4) for the harmonic ETF (or a difference set of size N), e.g. ${near.join(', ')}`,
      String(n),
    );
  }
  const q = prime3mod4(2 * n + 1) ? 2 * n + 1 : 2 * n - 1;
  const qr = new Set<number>();
  for (let x = 1; x < q; x++) qr.add((x * x) % q);
  const set = q === 2 * n + 1 ? [...qr] : Array.from({ length: q }, (_, i) => i).filter((x) => !qr.has(x));
  return { set: set.sort((a, b) => a - b), v: q };
}

/** The complex frame F (v x k) as separate real and imaginary parts, row-major. */
export function harmonicFrame(set: readonly number[], v: number): { re: Float64Array; im: Float64Array } {
  const k = set.length;
  const re = new Float64Array(v * k);
  const im = new Float64Array(v * k);
  const scale = 1 / Math.sqrt(v);
  for (let t = 0; t < v; t++) {
    for (let j = 0; j < k; j++) {
      // Reduce t d_j mod v first so the angle is exact-ish for large v.
      const angle = (2 * Math.PI * ((t * set[j]!) % v)) / v;
      re[t * k + j] = scale * Math.cos(angle);
      im[t * k + j] = scale * Math.sin(angle);
    }
  }
  return { re, im };
}

/**
 * The real v x k encoding above for a difference set; by default the Paley set for data with
 * n rows. A given set must be a difference set of size n in Z_v.
 */
export function harmonicEtfEncoding(n: number, given?: { set: readonly number[]; v: number }): DenseEncoding {
  const { set, v } = given ?? paleyDifferenceSet(n);
  if (given) {
    const distinct = new Set(set.map((x) => ((x % v) + v) % v));
    if (set.length !== n || distinct.size !== n || differenceSetLambda([...distinct], v) === null) {
      throw new ParameterError('differenceSet', `a difference set of ${n} distinct residues mod ${v}`, `[${set.join(', ')}]`);
    }
  }
  const k = set.length;
  const { re, im } = harmonicFrame(set, v);
  const s = new Float64Array(v * k);
  s.set(re.subarray(0, k));
  let r = 1;
  for (let t = 1; 2 * t < v; t++) {
    for (let j = 0; j < k; j++) {
      s[r * k + j] = Math.SQRT2 * re[t * k + j]!;
      s[(r + 1) * k + j] = Math.SQRT2 * im[t * k + j]!;
    }
    r += 2;
  }
  if (v % 2 === 0) s.set(re.subarray((v / 2) * k, (v / 2 + 1) * k), r * k);
  return new DenseEncoding(`etf-harmonic(v=${v}, k=${k})`, v, k, s);
}
