/**
 * Wire format of a sparse vector (top-k, random-k, threshold):
 *
 *   u8 format=0x10 | u32 d | u8 flags | u32 k | k values (f32 or f16) | k indices (u32 or delta-varint)
 *
 * flags: bit 0 = indices are delta-varint (else u32), bit 1 = values are fp16 (else f32).
 * The values come before the indices because their size is known from k: a decoder walks both
 * sections in one loop without a length field for the variable-size index section.
 *
 * sign∘top-k and QSGD∘top-k use the same layout with their own fields and per-value data in
 * place of the values (sparseFamilyPayload / readSparseFamily).
 */
import { f16ToF32Table, writeHalfs } from './half.ts';
import { chooseIndexCoding, readIndices, writeIndices } from './index-coding.ts';
import { growU32 } from './scratch.ts';
import type { Compressor, Uniform } from './compressor.ts';
import {
  checkEnd,
  checkSparseHeader,
  FLAG_F16_VALUES,
  FLAG_VARINT_INDICES,
  Format,
  type FormatCode,
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
 * A payload of the sparse family (this format, sign-topk, qsgd-topk): the sparse header (the
 * index-coding flag plus `extraFlags`), `fixedBytes` for the format's own fields and per-value
 * data at SPARSE_HEADER_BYTES, then the k indices. Returned with the header and indices written.
 */
export function sparseFamilyPayload(format: FormatCode, d: number, k: number, idx: Uint32Array, extraFlags: number, fixedBytes: number): Uint8Array {
  const { varint, bytes } = chooseIndexCoding(idx, k);
  const p = new Uint8Array(SPARSE_HEADER_BYTES + fixedBytes + bytes);
  writeSparseHeader(p, format, d, (varint ? FLAG_VARINT_INDICES : 0) | extraFlags, k);
  writeIndices(idx, k, d, varint, p, SPARSE_HEADER_BYTES + fixedBytes);
  return p;
}

/**
 * Check a sparse-family payload's header and read its indices into `idxScratch` (grown if it
 * was too small; the caller keeps the returned array). `fixedBytes` gives the size of the section
 * before the indices (`what` names it when the payload is too short for it).
 */
export function readSparseFamily(
  p: Uint8Array,
  format: FormatCode,
  d: number,
  who: string,
  minBytes: number,
  allowedFlags: number,
  fixedBytes: (k: number, dv: DataView, flags: number) => number,
  what: string,
  idxScratch: Uint32Array<ArrayBuffer>,
): { dv: DataView; k: number; flags: number; idx: Uint32Array<ArrayBuffer> } {
  const { dv, k, flags } = checkSparseHeader(p, format, d, who, minBytes, allowedFlags | FLAG_VARINT_INDICES);
  const fixed = fixedBytes(k, dv, flags);
  if (SPARSE_HEADER_BYTES + fixed > p.byteLength) throw new Error(`${who}: corrupt payload (truncated ${what})`);
  const idx = growU32(idxScratch, k);
  checkEnd(p, readIndices(p, SPARSE_HEADER_BYTES + fixed, k, d, (flags & FLAG_VARINT_INDICES) !== 0, idx), who);
  return { dv, k, flags, idx };
}

/**
 * Payload of the sparse vector with values vals[0..k) at indices idx[0..k) (strictly increasing,
 * below d). With 'f16' the values are rounded to half precision (nearest even).
 */
export function encodeSparse(d: number, k: number, idx: Uint32Array, vals: Float32Array, values: ValueType): Uint8Array {
  const vb = valueBytes(values);
  const p = sparseFamilyPayload(Format.sparse, d, k, idx, vb === 2 ? FLAG_F16_VALUES : 0, k * vb);
  if (vb === 2) writeHalfs(vals, k, p, SPARSE_HEADER_BYTES, false);
  else writeF32s(vals, k, p, SPARSE_HEADER_BYTES);
  return p;
}

/**
 * out += scale * decode(p). `idxScratch` receives the indices (must hold k); it is returned, grown
 * if it was too small, so the caller can keep it for the next call.
 */
export function sparseDecodeAdd(p: Uint8Array, out: Float32Array, scale: number, idxScratch: Uint32Array<ArrayBuffer>, who: string): Uint32Array<ArrayBuffer> {
  const valueSize = (flags: number) => ((flags & FLAG_F16_VALUES) !== 0 ? 2 : 4);
  const { dv, k, flags, idx } = readSparseFamily(p, Format.sparse, out.length, who, SPARSE_HEADER_BYTES, FLAG_F16_VALUES, (n, _, f) => n * valueSize(f), 'values', idxScratch);
  const vOff = SPARSE_HEADER_BYTES;
  if (valueSize(flags) === 2) {
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

/**
 * The compressors whose payload is this format (top-k, random-k, threshold): they differ only in
 * which entries they keep (`encode`); decoding and its index scratch are shared.
 */
export abstract class SparseCompressor implements Compressor {
  abstract readonly name: string;
  readonly dense = false;
  /** Index scratch of decodeAdd (subclasses may use it while encoding too). */
  protected idx = new Uint32Array(0);

  abstract encode(x: Float32Array, uniform: Uniform): Uint8Array;

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    this.idx = sparseDecodeAdd(payload, out, scale, this.idx, this.name);
  }
}
