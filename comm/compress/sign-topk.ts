/**
 * Scaled sign o top-k (Qsparse-local-SGD, Basu et al. 2019): select the top-k entries, send their
 * signs and one scale ||selected||_1 / k, i.e. C(x)_i = (||top_k(x)||_1 / k) sign(x_i) on the
 * support and 0 elsewhere. sign(0) = +1 as in sign.ts (only reachable when k exceeds the number
 * of non-zeros).
 *
 * Wire: u8 format=0x31 | u32 d | u8 flags | u32 k | f32 scale | ceil(k/8) sign bytes | k indices.
 */
import { sparseFamilyBitsPerElement } from './bits-formula.ts';
import type { Compressor, Uniform } from './compressor.ts';
import { chooseIndexCoding, readIndices, writeIndices } from './index-coding.ts';
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { growF32, growU32 } from './scratch.ts';
import { packSigns, unpackSignsAdd } from './sign.ts';
import { TopKSelector } from './topk-select.ts';
import { checkEnd, checkSparseHeader, dataView, FLAG_VARINT_INDICES, Format, SPARSE_HEADER_BYTES, writeSparseHeader } from './wire-format.ts';

const HEADER = SPARSE_HEADER_BYTES + 4; // + f32 scale

export class SignTopK implements Compressor {
  readonly name: string;
  readonly dense = false;
  private readonly selector = new TopKSelector();
  private idx = new Uint32Array(0);
  private vals = new Float32Array(0);

  constructor(readonly ratio: number) {
    checkRatio(ratio, 'sign-topk');
    this.name = `sign∘topk(${fmtRatio(ratio)})`;
  }

  count(d: number): number {
    return countForRatio(d, this.ratio);
  }

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const d = x.length;
    const k = this.count(d);
    const idx = (this.idx = growU32(this.idx, k));
    const vals = (this.vals = growF32(this.vals, k));
    this.selector.select(x, k, idx);
    let l1 = 0;
    for (let j = 0; j < k; j++) {
      const v = x[idx[j]!]!;
      vals[j] = v;
      l1 += Math.abs(v);
    }
    const { varint, bytes } = chooseIndexCoding(idx, k);
    const fixed = Math.ceil(k / 8);
    const p = new Uint8Array(HEADER + fixed + bytes);
    writeSparseHeader(p, Format.signTopk, d, varint ? FLAG_VARINT_INDICES : 0, k);
    dataView(p).setFloat32(SPARSE_HEADER_BYTES, k === 0 ? 0 : l1 / k, true);
    packSigns(vals, k, p, HEADER);
    writeIndices(idx, k, d, varint, p, HEADER + fixed);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    const d = out.length;
    const { dv, k, flags } = checkSparseHeader(payload, Format.signTopk, d, this.name, HEADER, FLAG_VARINT_INDICES);
    const mag = dv.getFloat32(SPARSE_HEADER_BYTES, true);
    const fixed = Math.ceil(k / 8);
    if (HEADER + fixed > payload.byteLength) throw new Error(`${this.name}: corrupt payload (truncated signs)`);
    const idx = (this.idx = growU32(this.idx, k));
    checkEnd(payload, readIndices(payload, HEADER + fixed, k, d, (flags & FLAG_VARINT_INDICES) !== 0, idx), this.name);
    unpackSignsAdd(payload, HEADER, k, mag, out, scale, idx);
  }
}

/** Bits per element of sign o top-k with k kept (random support): 1 bit per kept value + indices. */
export function signTopkBitsPerElement(d: number, k: number): number {
  return sparseFamilyBitsPerElement(d, k, HEADER, Math.ceil(k / 8));
}
