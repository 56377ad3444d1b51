/**
 * QSGD (Alistarh et al. 2017) with s levels: Q(x)_i = ||x||_2 * sign(x_i) * l_i / s, where l_i is
 * |x_i| / ||x||_2 * s rounded stochastically to one of its two neighbouring integers with
 * P(up) = the fractional part. Then E[l_i] = s |x_i| / ||x||_2 and Q is unbiased, with
 * E||Q(x) - x||^2 <= min(d / s^2, sqrt(d) / s) ||x||^2 (their Lemma 3.1).
 *
 * Wire: u8 format=0x20 | u32 d | u32 s | f32 norm | d fields of (b + 1) bits, b = ceil(log2(s+1)),
 * packed LSB first; a field is (l << 1) | negative.
 *
 * Details that keep it exactly unbiased with the numbers that really travel:
 *  - The norm goes on the wire as float32, rounded *up* (the smallest float32 >= the float64 norm),
 *    and the levels are computed against that float32 norm, so the receiver's norm is the one
 *    the rounding probabilities were made for, and |x_i| / norm <= 1 always.
 *  - q = norm / s; r_i = |x_i| / q; l_i = floor(r_i) + (u_i < r_i - floor(r_i)); decoded value is
 *    fround(+-l_i * q). (l_i is clamped to s, which only matters when float64 rounding pushes r_i
 *    a hair above s.)
 *  - Exactly one uniform per element, in index order, whatever the data (even a zero vector), so
 *    the caller's stream advances by d per call.
 *  - Sign bit is 0 when l_i = 0 (canonical zero).
 */
import type { Compressor, Uniform } from './compressor.ts';
import { f32Bits } from './half.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, writeHeader } from './wire-format.ts';

/** Levels are capped so that a (b + 1)-bit field plus 7 pending bits fits a 32-bit accumulator. */
export const MAX_LEVELS = 2 ** 23 - 1;

/** b = ceil(log2(s + 1)): bits of the level. */
export function qsgdLevelBits(s: number): number {
  return 32 - Math.clz32(s);
}

export function checkLevels(levels: unknown, who: string): number {
  if (typeof levels !== 'number' || !Number.isInteger(levels) || levels < 1 || levels > MAX_LEVELS) {
    throw new Error(`${who}: levels must be an integer in [1, ${MAX_LEVELS}], got ${JSON.stringify(levels)}`);
  }
  return levels;
}

const oneF32 = new Float32Array(1);
const oneU32 = new Uint32Array(oneF32.buffer);

/** Smallest float32 >= v, for finite v >= 0 (v itself if representable). */
export function roundUpToF32(v: number): number {
  const f = Math.fround(v);
  if (!(f < v)) return f;
  oneU32[0] = f32Bits(f) + 1; // next float32 up (f >= 0, so its bit pattern is monotone)
  return oneF32[0]!;
}

/** sqrt(sum v_i^2) of vals[0..n) in float64, rounded up to float32. */
export function l2NormF32(vals: Float32Array, n: number): number {
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = vals[i]!;
    ss += v * v;
  }
  return roundUpToF32(Math.sqrt(ss));
}

/**
 * Quantize vals[0..n) against `norm` (a float32) with s levels and pack the fields at dst[off..);
 * returns the end offset. Draws exactly n uniforms.
 */
export function quantizePack(vals: Float32Array, n: number, norm: number, s: number, uniform: Uniform, dst: Uint8Array, off: number): number {
  const w = qsgdLevelBits(s) + 1;
  // A zero norm means a zero vector: q = inf makes every r_i 0 (no 0/0).
  const q = norm > 0 ? norm / s : Infinity;
  const bits = new Uint32Array(vals.buffer, vals.byteOffset, n);
  let acc = 0; // pending bits, LSB first; at most 7 + w <= 31 bits
  let nb = 0;
  let o = off;
  for (let i = 0; i < n; i++) {
    const field = quantizeField(vals[i]!, bits[i]!, q, s, uniform);
    acc |= field << nb;
    nb += w;
    while (nb >= 8) {
      dst[o++] = acc & 0xff;
      acc >>>= 8;
      nb -= 8;
    }
  }
  if (nb > 0) dst[o++] = acc & 0xff;
  return o;
}

/** The (level << 1 | negative) field of value v (float bits b); draws one uniform. */
function quantizeField(v: number, b: number, q: number, s: number, uniform: Uniform): number {
  const r = Math.abs(v) / q;
  const lo = Math.floor(r);
  // Branch-free stochastic rounding: floor(u - p) is -1 exactly when u < p (IEEE subtraction of
  // two different doubles is never 0, so the sign is exact), else 0.
  let l = lo - Math.floor(uniform() - (r - lo));
  if (l > s) l = s;
  // Sign bit from the float bits, only for a non-zero level: (-l) >>> 31 is 1 iff l >= 1.
  // (Kept within int32: truncating a double >= 2^31 to bits takes a slow path in V8.)
  const li = l | 0;
  return (li << 1) | ((b >>> 31) & (-li >>> 31));
}

/** Bytes of n packed fields for s levels. */
export function packedBytes(n: number, s: number): number {
  return Math.ceil((n * (qsgdLevelBits(s) + 1)) / 8);
}

/**
 * Unpack n fields from src[off..) and add scale * value to out[idx[j]] (or out[j] when idx is
 * null); returns the end offset.
 */
export function unpackAdd(
  src: Uint8Array,
  off: number,
  n: number,
  norm: number,
  s: number,
  out: Float32Array,
  scale: number,
  idx: Uint32Array | null,
): number {
  const w = qsgdLevelBits(s) + 1;
  const mask = (1 << w) - 1;
  const q = norm / s;
  // With few levels, every field's contribution scale * (+-fround(l q)) is precomputed: one load
  // per element instead of a multiply, a rounding and a sign flip.
  const table = w <= TABLE_MAX_BITS ? fieldTable(w, q, scale) : null;
  if (table !== null && idx === null && (w === 2 || w === 4 || w === 8)) {
    // Fields never straddle a byte: each byte is decoded on its own, with no bit buffer carried
    // from one element to the next (a serial dependency the generic loop below has).
    const per = 8 / w;
    let j = 0;
    for (let o = off; j < n; o++) {
      const byte = src[o]!;
      const end = j + per < n ? j + per : n;
      for (let t = 0; j < end; j++, t += w) out[j] = out[j]! + table[(byte >>> t) & mask]!;
    }
    return off + Math.ceil((n * w) / 8);
  }
  let acc = 0;
  let nb = 0;
  let o = off;
  for (let j = 0; j < n; j++) {
    while (nb < w) {
      acc |= src[o++]! << nb;
      nb += 8;
    }
    const field = acc & mask;
    acc >>>= w;
    nb -= w;
    const v = table !== null ? table[field]! : fieldValue(field, q, scale);
    const i = idx === null ? j : idx[j]!;
    out[i] = out[i]! + v;
  }
  return o;
}

/** scale * decoded value of a field: fround(l q) with the sign applied as an exact factor +-1. */
function fieldValue(field: number, q: number, scale: number): number {
  return scale * (Math.fround((field >>> 1) * q) * (1 - 2 * (field & 1)));
}

const TABLE_MAX_BITS = 12;
const tableBuf = new Float64Array(1 << TABLE_MAX_BITS);

function fieldTable(w: number, q: number, scale: number): Float64Array {
  const n = 1 << w;
  for (let f = 0; f < n; f++) tableBuf[f] = fieldValue(f, q, scale);
  return tableBuf;
}

const QSGD_HEADER_BYTES = HEADER_BYTES + 8; // + u32 s + f32 norm

export class Qsgd implements Compressor {
  readonly name: string;
  readonly dense = false;

  constructor(readonly levels: number) {
    checkLevels(levels, 'qsgd');
    this.name = `qsgd(s=${levels})`;
  }

  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    const d = x.length;
    const s = this.levels;
    const norm = l2NormF32(x, d);
    const p = new Uint8Array(QSGD_HEADER_BYTES + packedBytes(d, s));
    const dv = dataView(p);
    writeHeader(p, Format.qsgd, d);
    dv.setUint32(5, s, true);
    dv.setFloat32(9, norm, true);
    quantizePack(x, d, norm, s, uniform, p, QSGD_HEADER_BYTES);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    const dv = checkHeader(payload, Format.qsgd, out.length, this.name, QSGD_HEADER_BYTES);
    const s = checkLevels(dv.getUint32(5, true), this.name);
    const norm = dv.getFloat32(9, true);
    checkEnd(payload, QSGD_HEADER_BYTES + packedBytes(out.length, s), this.name);
    unpackAdd(payload, QSGD_HEADER_BYTES, out.length, norm, s, out, scale, null);
  }
}

/** Bits per element of QSGD with s levels: b + 1 bits, plus header and padding spread over d. */
export function qsgdBitsPerElement(d: number, s: number): number {
  return (8 * (QSGD_HEADER_BYTES + packedBytes(d, s))) / d;
}
