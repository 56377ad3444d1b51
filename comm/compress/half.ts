/**
 * IEEE 754 binary16 (fp16) and bfloat16 conversions on bit patterns.
 *
 * Float32 -> 16 bits rounds to nearest, ties to even, as the hardware casts do:
 *  - fp16: 5 exponent bits, 10 mantissa bits. Values at or above 65520 (halfway between the largest
 *    half 65504 and 2^16) overflow to infinity; below 2^-14 the result is subnormal (unit 2^-24)
 *    and values at most 2^-25 round to zero; NaN stays NaN (quiet, the top mantissa bits kept).
 *  - bf16: the upper 16 bits of the float32, rounded on the lower 16 bits. NaN is kept a quiet
 *    NaN explicitly, because adding the rounding bias to a NaN pattern can carry it into infinity.
 *
 * 16 bits -> float32 is exact; it goes through a 65536-entry table (256 KB, built on first use),
 * one load per element, which is faster than re-assembling the bits in the decode loops.
 */
import { LITTLE_ENDIAN_HOST } from './wire-format.ts';

/** fp16 bits (0..0xffff) of the float32 whose bit pattern is b (an unsigned 32-bit integer). */
export function f32BitsToF16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x38800000 && a < 0x477ff000) {
    // Normal half (2^-14 <= |x| < 65520, the overflow midpoint): rebias the exponent (127 -> 15)
    // in place, then round to nearest even on the 13 dropped mantissa bits without a branch:
    // adding 0xfff plus the lowest kept bit carries exactly when the dropped part is > half, or
    // == half with an odd kept part. A carry out of the mantissa correctly bumps the exponent,
    // and from the largest half it lands on 0x7c00 = inf (only reachable at >= 65520, excluded).
    const v = a - 0x38000000;
    return sign | ((v + 0xfff + ((v >>> 13) & 1)) >>> 13);
  }
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff); // NaN: quiet, top payload bits kept
  if (a >= 0x477ff000) return sign | 0x7c00; // inf, or a finite value rounding to it
  if (a <= 0x33000000) return sign; // |x| <= 2^-25 (the midpoint to 2^-24 ties to even 0): zero
  // Subnormal half: value / 2^-24 = (1.m) * 2^(e - 103) = full >> (126 - e), e = 102..112.
  const e = a >>> 23;
  const full = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24
  const h = full >>> shift;
  const rem = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  // A carry from the largest subnormal gives 0x400, the smallest normal: also correct.
  return sign | (rem > halfway || (rem === halfway && (h & 1) !== 0) ? h + 1 : h);
}

/** bf16 bits of the float32 whose bit pattern is b. */
export function f32BitsToBf16(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  // Round to nearest even on the dropped 16 bits: add 0x7fff plus the lowest kept bit.
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

let f16Table: Float32Array | undefined;
let bf16Table: Float32Array | undefined;

/** float32 value of every fp16 bit pattern. */
export function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = (sign ? -m : m) * 2 ** -24; // subnormal or signed zero, exact in float32
    else if (e === 31) bits[h] = (sign | 0x7f800000 | (m << 13)) >>> 0;
    else bits[h] = (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  }
  f16Table = t;
  return t;
}

/** float32 value of every bf16 bit pattern. */
export function bf16ToF32Table(): Float32Array {
  if (bf16Table) return bf16Table;
  const t = new Float32Array(65536);
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) bits[h] = (h << 16) >>> 0;
  bf16Table = t;
  return t;
}

const scalarF32 = new Float32Array(1);
const scalarBits = new Uint32Array(scalarF32.buffer);

/** Bit pattern of the float32 nearest to x. */
export function f32Bits(x: number): number {
  scalarF32[0] = x;
  return scalarBits[0]!;
}

/** x rounded to float32, then to fp16, as a number. */
export function roundToF16(x: number): number {
  return f16ToF32Table()[f32BitsToF16(f32Bits(x))]!;
}

/** x rounded to float32, then to bf16, as a number. */
export function roundToBf16(x: number): number {
  return bf16ToF32Table()[f32BitsToBf16(f32Bits(x))]!;
}

let halfScratch = new Uint16Array(0);

/** Write n values of src as little-endian fp16 (or bf16) into dst at off. */
export function writeHalfs(src: Float32Array, n: number, dst: Uint8Array, off: number, bf16: boolean): void {
  // The float32 bits are read through a Uint32Array view (no per-element scalar round trip) and
  // the halves written to an aligned scratch, then copied as bytes: dst[off] is usually odd-aligned.
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  if (halfScratch.length < n) halfScratch = new Uint16Array(Math.max(n, Math.ceil(halfScratch.length * 1.5)));
  const h = halfScratch;
  if (bf16) for (let i = 0; i < n; i++) h[i] = f32BitsToBf16(bits[i]!);
  else for (let i = 0; i < n; i++) h[i] = f32BitsToF16(bits[i]!);
  if (LITTLE_ENDIAN_HOST) {
    dst.set(new Uint8Array(h.buffer, 0, 2 * n), off);
  } else {
    for (let i = 0; i < n; i++) {
      dst[off + 2 * i] = h[i]! & 0xff;
      dst[off + 2 * i + 1] = h[i]! >>> 8;
    }
  }
}
