/**
 * Wire format of a sparse vector (top-k, random-k, threshold):
 *
 *   u8 format=0x10 | u32 d | u8 flags | u32 k | k values (f32 or f16) | k indices (u32 or delta-varint)
 *
 * flags: bit 0 = indices are delta-varint (else u32), bit 1 = values are fp16 (else f32).
 * The values come before the indices because their size is known from k: a decoder walks both
 * sections in one loop without a length field for the variable-size index section.
 */
import { f16ToF32Table, writeHalfs } from './half.ts';
import { chooseIndexCoding, readIndices, writeIndices } from './index-coding.ts';
import { growU32 } from './scratch.ts';
import {
  checkEnd,
  checkSparseHeader,
  FLAG_F16_VALUES,
  FLAG_VARINT_INDICES,
  Format,
  SPARSE_HEADER_BYTES,
  writeF32s,
  writeSparseHeader,
} from './wire-format.ts';

/** Precision of the values a sparse compressor sends. */
export type ValueType = 'f32' | 'f16';

export function valueBytes(values: ValueType): number {
  return values === 'f16' ? 2 : 4;
}

/**
 * Payload of the sparse vector with values vals[0..k) at indices idx[0..k) (strictly increasing,
 * below d). With 'f16' the values are rounded to half precision (nearest even).
 */
export function encodeSparse(d: number, k: number, idx: Uint32Array, vals: Float32Array, values: ValueType): Uint8Array {
  const { varint, bytes } = chooseIndexCoding(idx, k);
  const vb = valueBytes(values);
  const p = new Uint8Array(SPARSE_HEADER_BYTES + k * vb + bytes);
  let off = writeSparseHeader(p, Format.sparse, d, (varint ? FLAG_VARINT_INDICES : 0) | (vb === 2 ? FLAG_F16_VALUES : 0), k);
  if (vb === 2) writeHalfs(vals, k, p, off, false);
  else writeF32s(vals, k, p, off);
  off += k * vb;
  writeIndices(idx, k, d, varint, p, off);
  return p;
}

/** Header fields of a sparse payload, checked against the output length. */
export function sparseInfo(p: Uint8Array, d: number, who: string): { k: number; varint: boolean; f16: boolean } {
  const { k, flags } = checkSparseHeader(p, Format.sparse, d, who, SPARSE_HEADER_BYTES, FLAG_VARINT_INDICES | FLAG_F16_VALUES);
  return { k, varint: (flags & FLAG_VARINT_INDICES) !== 0, f16: (flags & FLAG_F16_VALUES) !== 0 };
}

/**
 * out += scale * decode(p). `idxScratch` receives the indices (must hold k); it is returned, grown
 * if it was too small, so the caller can keep it for the next call.
 */
export function sparseDecodeAdd(p: Uint8Array, out: Float32Array, scale: number, idxScratch: Uint32Array<ArrayBuffer>, who: string): Uint32Array<ArrayBuffer> {
  const { k, varint, f16 } = sparseInfo(p, out.length, who);
  const idx = growU32(idxScratch, k);
  const vOff = SPARSE_HEADER_BYTES;
  const vb = f16 ? 2 : 4;
  if (vOff + k * vb > p.byteLength) throw new Error(`${who}: corrupt payload (truncated values)`);
  checkEnd(p, readIndices(p, vOff + k * vb, k, out.length, varint, idx), who);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (f16) {
    const t = f16ToF32Table();
    for (let j = 0; j < k; j++) {
      const i = idx[j]!;
      out[i] = out[i]! + scale * t[dv.getUint16(vOff + 2 * j, true)]!;
    }
  } else {
    for (let j = 0; j < k; j++) {
      const i = idx[j]!;
      out[i] = out[i]! + scale * dv.getFloat32(vOff + 4 * j, true);
    }
  }
  return idx;
}
