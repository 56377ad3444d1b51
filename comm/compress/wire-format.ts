/**
 * The byte layout shared by every compressor payload. All multi-byte fields are little endian.
 *
 * Every payload starts with a 5-byte header: u8 format | u32 d (the dense length). Formats that
 * carry a sparse support add u8 flags | u32 k right after it (10 bytes in all). Fixed-size
 * sections (values, packed levels, sign bits) come next and a variable-size index section, if
 * any, comes last: a decoder then knows where everything starts without a length field, and the
 * payload ends exactly where the last index ends (checked, so a truncated or padded payload is
 * an error instead of silently wrong numbers).
 *
 * Payloads are handed around as Uint8Array slices at any byte offset (ws buffers, per-tensor
 * concatenation), so multi-byte values are read through DataView, which V8 compiles to plain
 * loads (measured as fast as an aligned Float32Array loop on Node 20).
 */

/** Format byte of each payload kind. Never reuse a value: a payload must not decode as another kind. */
export const Format = {
  identity: 0x01,
  fp16: 0x02,
  bf16: 0x03,
  sparse: 0x10,
  qsgd: 0x20,
  sign: 0x21,
  terngrad: 0x22,
  qsgdTopk: 0x30,
  signTopk: 0x31,
  perTensor: 0x40,
} as const;

export type FormatCode = (typeof Format)[keyof typeof Format];

/** u8 format + u32 d. */
export const HEADER_BYTES = 5;
/** HEADER_BYTES + u8 flags + u32 k. */
export const SPARSE_HEADER_BYTES = 10;

/** Flag bits of sparse-family headers. */
export const FLAG_VARINT_INDICES = 1;
export const FLAG_F16_VALUES = 2;

/** Largest dense length a header can describe. */
export const MAX_LENGTH = 0xffffffff;

/** True on little-endian hosts, where float32 arrays can be copied to the wire byte for byte. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function dataView(p: Uint8Array): DataView {
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

/** Write format + d at the start of p; returns the offset after the header. */
export function writeHeader(p: Uint8Array, format: FormatCode, d: number): number {
  if (d > MAX_LENGTH) throw new Error(`vector of ${d} elements does not fit a u32 length field`);
  p[0] = format;
  dataView(p).setUint32(1, d, true);
  return HEADER_BYTES;
}

/** Write the 10-byte sparse-family header; returns the offset after it. */
export function writeSparseHeader(p: Uint8Array, format: FormatCode, d: number, flags: number, k: number): number {
  writeHeader(p, format, d);
  p[5] = flags;
  dataView(p).setUint32(6, k, true);
  return SPARSE_HEADER_BYTES;
}

function formatName(f: number): string {
  for (const [k, v] of Object.entries(Format)) if (v === f) return k;
  return `0x${f.toString(16)}`;
}

/**
 * Check a payload's header against what the decoder expects (format and out.length) and return
 * a DataView over it. Decoding into a vector of the wrong length would otherwise scatter values
 * to the wrong places without any error.
 */
export function checkHeader(p: Uint8Array, format: FormatCode, d: number, who: string, minBytes = HEADER_BYTES): DataView {
  if (p.byteLength < minBytes) throw new Error(`${who}: payload of ${p.byteLength} bytes is shorter than its ${minBytes}-byte header`);
  if (p[0] !== format) throw new Error(`${who}: payload is of format ${formatName(p[0]!)}, expected ${formatName(format)}`);
  const dv = dataView(p);
  const len = dv.getUint32(1, true);
  if (len !== d) throw new Error(`${who}: payload holds ${len} elements but the output has ${d}`);
  return dv;
}

/** Throw unless a decoder consumed the payload exactly. */
export function checkEnd(p: Uint8Array, end: number, who: string): void {
  if (end !== p.byteLength) throw new Error(`${who}: corrupt payload (${p.byteLength} bytes, expected ${end})`);
}

/** Copy n float32 values as little-endian bytes into dst at off. */
export function writeF32s(src: Float32Array, n: number, dst: Uint8Array, off: number): void {
  if (LITTLE_ENDIAN_HOST) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset, n * 4), off);
    return;
  }
  const dv = dataView(dst);
  for (let i = 0; i < n; i++) dv.setFloat32(off + 4 * i, src[i]!, true);
}

/** Read n little-endian float32 values from src at off into dst (a plain copy: out of a decode). */
export function readF32s(src: Uint8Array, off: number, n: number, dst: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(dst.buffer, dst.byteOffset, n * 4).set(src.subarray(off, off + n * 4));
    return;
  }
  const dv = dataView(src);
  for (let i = 0; i < n; i++) dst[i] = dv.getFloat32(off + 4 * i, true);
}

/**
 * Check a sparse-family header (format, d, flags within `allowedFlags`, k <= d) and return its
 * fields. k is checked before anyone sizes a buffer by it.
 */
export function checkSparseHeader(
  p: Uint8Array,
  format: FormatCode,
  d: number,
  who: string,
  minBytes: number,
  allowedFlags: number,
): { dv: DataView; k: number; flags: number } {
  const dv = checkHeader(p, format, d, who, minBytes);
  const flags = p[5]!;
  if ((flags & ~allowedFlags) !== 0) throw new Error(`${who}: unknown flags 0x${flags.toString(16)}`);
  const k = dv.getUint32(6, true);
  if (k > d) throw new Error(`${who}: corrupt payload (k = ${k} > d = ${d})`);
  return { dv, k, flags };
}
