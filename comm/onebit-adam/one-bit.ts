/**
 * 1-bit compression with error compensation, as 1-bit Adam uses it (Tang et al. 2021; the scale
 * follows DeepSpeed's compressed all-reduce): z = x + e, C(z) = s sign(z) with
 * s = ||z||_2 / sqrt(d) (so ||C(z)|| = ||z||), e <- z - C(z). sign(0) = +1. The scale is rounded to
 * float32 before the error is formed, so the error is exactly what the wire lost.
 *
 * Wire: u8 0x31 | u32 d (LE) | f32 scale (LE) | ceil(d/8) bytes, bit j%8 of byte j/8 = 1 when
 * the sign is negative (the packing of comm/compress/sign.ts). 9 + ceil(d/8) bytes.
 */
import { packSigns, unpackSigns, unpackSignsAdd } from '../compress/sign.ts';

export const ONE_BIT_FORMAT = 0x31;
const HEADER = 9;

/**
 * out = C(x + err), err <- (x + err) - out. Returns the float32 scale. `z` is scratch of length d
 * (it ends holding x + err). No allocation.
 */
export function oneBitCompress(x: Float32Array, err: Float32Array, out: Float32Array, z: Float32Array): number {
  const d = x.length;
  let sq = 0;
  for (let k = 0; k < d; k++) {
    const v = x[k]! + err[k]!;
    z[k] = v;
    sq += v * v;
  }
  const scale = d === 0 ? 0 : Math.fround(Math.sqrt(sq / d));
  for (let k = 0; k < d; k++) {
    const v = z[k]!;
    const c = v < 0 ? -scale : scale;
    out[k] = c;
    err[k] = v - c;
  }
  return scale;
}

export function oneBitPayloadBytes(d: number): number {
  return HEADER + Math.ceil(d / 8);
}

/** The wire bytes of a compressed vector c = scale * sign (as oneBitCompress wrote it). */
export function encodeOneBit(c: Float32Array, scale: number): Uint8Array {
  const d = c.length;
  const p = new Uint8Array(oneBitPayloadBytes(d));
  const dv = new DataView(p.buffer);
  p[0] = ONE_BIT_FORMAT;
  dv.setUint32(1, d, true);
  dv.setFloat32(5, scale, true);
  // Signs of c are the signs of z (scale >= 0; with scale 0 every entry is +0, sign +).
  packSigns(c, d, p, HEADER);
  return p;
}

function checkOneBit(p: Uint8Array, d: number): number {
  if (p.length !== oneBitPayloadBytes(d) || p[0] !== ONE_BIT_FORMAT) {
    throw new Error(`1-bit payload: expected ${oneBitPayloadBytes(d)} bytes of format 0x31 for ${d} values, found ${p.length} bytes of format 0x${(p[0] ?? 0).toString(16)}`);
  }
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (dv.getUint32(1, true) !== d) throw new Error(`1-bit payload: ${dv.getUint32(1, true)} values, expected ${d}`);
  const scale = dv.getFloat32(5, true);
  if (!Number.isFinite(scale) || scale < 0) throw new Error(`1-bit payload: scale ${scale}`);
  return scale;
}

/** out = decoded payload. */
export function decodeOneBit(p: Uint8Array, out: Float32Array): void {
  unpackSigns(p, HEADER, out.length, checkOneBit(p, out.length), out);
}

/** out += weight * decoded payload. */
export function decodeOneBitAdd(p: Uint8Array, out: Float32Array, weight: number): void {
  unpackSignsAdd(p, HEADER, out.length, checkOneBit(p, out.length), out, weight, null);
}
