/**
 * Scaled sign (signSGD with the l1 scale of Karimireddy et al. 2019, "EF-SGD"):
 * C(x) = (||x||_1 / d) * sign(x), where sign(0) = +1 (both +0 and -0; so is a NaN with a clear sign
 * bit, a NaN with the sign bit set counts as negative; the scale is then NaN anyway).
 *
 * Wire: u8 format=0x21 | u32 d | f32 scale | ceil(d/8) bytes, bit j%8 of byte j/8 = 1 when x_j < 0.
 * The scale is fround(sum |x_i| / d) with the sum in float64.
 */
import type { Compressor, Uniform } from './compressor.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, writeHeader } from './wire-format.ts';

/**
 * Pack the sign bits of vals[0..n) at dst[off..) (1 = negative, 8 per byte, LSB first); returns
 * the end offset. Branch-free on the float bits: random signs would mispredict half the time.
 */
export function packSigns(vals: Float32Array, n: number, dst: Uint8Array, off: number): number {
  const bits = new Uint32Array(vals.buffer, vals.byteOffset, n);
  let o = off;
  for (let i = 0; i < n; i += 8) {
    const end = i + 8 < n ? i + 8 : n;
    let byte = 0;
    for (let j = i; j < end; j++) {
      const b = bits[j]!;
      // Sign bit, but only for a non-zero magnitude m: (-m) >>> 31 is 1 iff m >= 1 (int32 math
      // throughout: truncating a double >= 2^31 to bits takes a slow path in V8).
      const neg = (b >>> 31) & (-(b & 0x7fffffff) >>> 31);
      byte |= neg << (j - i);
    }
    dst[o++] = byte;
  }
  return o;
}

/** Two-entry table [+v, -v], indexed by a sign bit: a load instead of an unpredictable branch. */
const pm = new Float64Array(2);

/** out[idx[j] or j] += scale * (+-mag) for the n packed signs at src[off..); returns the end offset. */
export function unpackSignsAdd(
  src: Uint8Array,
  off: number,
  n: number,
  mag: number,
  out: Float32Array,
  scale: number,
  idx: Uint32Array | null,
): number {
  pm[0] = scale * mag;
  pm[1] = -pm[0]!;
  if (idx === null) {
    for (let j = 0; j < n; j++) out[j] = out[j]! + pm[(src[off + (j >>> 3)]! >>> (j & 7)) & 1]!;
  } else {
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      out[i] = out[i]! + pm[(src[off + (j >>> 3)]! >>> (j & 7)) & 1]!;
    }
  }
  return off + Math.ceil(n / 8);
}

/** out[j] = +-mag for the n packed signs at src[off..). */
export function unpackSigns(src: Uint8Array, off: number, n: number, mag: number, out: Float32Array): void {
  pm[0] = mag;
  pm[1] = -mag;
  for (let j = 0; j < n; j++) out[j] = pm[(src[off + (j >>> 3)]! >>> (j & 7)) & 1]!;
}

const SIGN_HEADER_BYTES = HEADER_BYTES + 4; // + f32 scale

export class ScaledSign implements Compressor {
  readonly name = 'sign';
  readonly dense = false;

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const d = x.length;
    let l1 = 0;
    for (let i = 0; i < d; i++) l1 += Math.abs(x[i]!);
    const p = new Uint8Array(SIGN_HEADER_BYTES + Math.ceil(d / 8));
    writeHeader(p, Format.sign, d);
    dataView(p).setFloat32(5, d === 0 ? 0 : l1 / d, true);
    packSigns(x, d, p, SIGN_HEADER_BYTES);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    // Written directly rather than fill + add: every element gets a value anyway.
    unpackSigns(payload, SIGN_HEADER_BYTES, out.length, this.check(payload, out.length), out);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    unpackSignsAdd(payload, SIGN_HEADER_BYTES, out.length, this.check(payload, out.length), out, scale, null);
  }

  private check(payload: Uint8Array, d: number): number {
    const dv = checkHeader(payload, Format.sign, d, this.name, SIGN_HEADER_BYTES);
    checkEnd(payload, SIGN_HEADER_BYTES + Math.ceil(d / 8), this.name);
    return dv.getFloat32(5, true);
  }
}

/** Bits per element of scaled sign: 1, plus header and padding spread over d. */
export function signBitsPerElement(d: number): number {
  return (8 * (SIGN_HEADER_BYTES + Math.ceil(d / 8))) / d;
}
