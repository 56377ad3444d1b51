/**
 * QSGD o top-k, the composed operator of Qsparse-local-SGD (Basu et al. 2019): select the top-k
 * entries, then QSGD-quantize those k values with s levels against the l2 norm *of the selected
 * values* (not of the whole vector), and send levels, signs and the support.
 *
 * Wire: u8 format=0x30 | u32 d | u8 flags | u32 k | u32 s | f32 norm | k packed (b+1)-bit fields
 * (qsgd.ts) | k indices (u32 or delta-varint, flag bit 0). Exactly k uniforms per call, in index
 * order of the selected entries.
 */
import { sparseFamilyBitsPerElement } from './bits-formula.ts';
import type { Compressor, Uniform } from './compressor.ts';
import { chooseIndexCoding, readIndices, writeIndices } from './index-coding.ts';
import { checkLevels, l2NormF32, packedBytes, quantizePack, unpackAdd } from './qsgd.ts';
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { growF32, growU32 } from './scratch.ts';
import { TopKSelector } from './topk-select.ts';
import { checkEnd, checkSparseHeader, dataView, FLAG_VARINT_INDICES, Format, SPARSE_HEADER_BYTES, writeSparseHeader } from './wire-format.ts';

const HEADER = SPARSE_HEADER_BYTES + 8; // + u32 s + f32 norm

export class QsgdTopK implements Compressor {
  readonly name: string;
  readonly dense = false;
  private readonly selector = new TopKSelector();
  private idx = new Uint32Array(0);
  private vals = new Float32Array(0);

  constructor(
    readonly ratio: number,
    readonly levels: number,
  ) {
    checkRatio(ratio, 'qsgd-topk');
    checkLevels(levels, 'qsgd-topk');
    this.name = `qsgd(s=${levels})∘topk(${fmtRatio(ratio)})`;
  }

  count(d: number): number {
    return countForRatio(d, this.ratio);
  }

  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    const d = x.length;
    const k = this.count(d);
    const s = this.levels;
    const idx = (this.idx = growU32(this.idx, k));
    const vals = (this.vals = growF32(this.vals, k));
    this.selector.select(x, k, idx);
    for (let j = 0; j < k; j++) vals[j] = x[idx[j]!]!;
    const norm = l2NormF32(vals, k);
    const { varint, bytes } = chooseIndexCoding(idx, k);
    const fixed = packedBytes(k, s);
    const p = new Uint8Array(HEADER + fixed + bytes);
    writeSparseHeader(p, Format.qsgdTopk, d, varint ? FLAG_VARINT_INDICES : 0, k);
    const dv = dataView(p);
    dv.setUint32(SPARSE_HEADER_BYTES, s, true);
    dv.setFloat32(SPARSE_HEADER_BYTES + 4, norm, true);
    quantizePack(vals, k, norm, s, uniform, p, HEADER);
    writeIndices(idx, k, d, varint, p, HEADER + fixed);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    const d = out.length;
    const { dv, k, flags } = checkSparseHeader(payload, Format.qsgdTopk, d, this.name, HEADER, FLAG_VARINT_INDICES);
    const s = checkLevels(dv.getUint32(SPARSE_HEADER_BYTES, true), this.name);
    const norm = dv.getFloat32(SPARSE_HEADER_BYTES + 4, true);
    const fixed = packedBytes(k, s);
    if (HEADER + fixed > payload.byteLength) throw new Error(`${this.name}: corrupt payload (truncated levels)`);
    const idx = (this.idx = growU32(this.idx, k));
    checkEnd(payload, readIndices(payload, HEADER + fixed, k, d, (flags & FLAG_VARINT_INDICES) !== 0, idx), this.name);
    unpackAdd(payload, HEADER, k, norm, s, out, scale, idx);
  }
}

/** Bits per element of QSGD(s) o top-k with k kept (random support): (b + 1) bits per kept value + indices. */
export function qsgdTopkBitsPerElement(d: number, k: number, s: number): number {
  return sparseFamilyBitsPerElement(d, k, HEADER, packedBytes(k, s));
}
