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
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { packSigns, unpackSignsAdd } from './sign.ts';
import { readSparseFamily, sparseFamilyPayload } from './sparse-codec.ts';
import { TopKGather } from './topk-select.ts';
import { dataView, Format, SPARSE_HEADER_BYTES } from './wire-format.ts';

const HEADER = SPARSE_HEADER_BYTES + 4; // + f32 scale

/** The bytes between the sparse header and the indices: the scale and k sign bits. */
function fixedBytes(k: number): number {
  return 4 + Math.ceil(k / 8);
}

export class SignTopK implements Compressor {
  readonly name: string;
  readonly dense = false;
  private readonly top = new TopKGather();
  private idx = new Uint32Array(0);

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
    this.top.gather(x, k);
    const vals = this.top.vals;
    let l1 = 0;
    for (let j = 0; j < k; j++) l1 += Math.abs(vals[j]!);
    const p = sparseFamilyPayload(Format.signTopk, d, k, this.top.idx, 0, fixedBytes(k));
    dataView(p).setFloat32(SPARSE_HEADER_BYTES, k === 0 ? 0 : l1 / k, true);
    packSigns(vals, k, p, HEADER);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    const { dv, k, idx } = readSparseFamily(payload, Format.signTopk, out.length, this.name, HEADER, 0, fixedBytes, 'signs', this.idx);
    this.idx = idx;
    unpackSignsAdd(payload, HEADER, k, dv.getFloat32(SPARSE_HEADER_BYTES, true), out, scale, idx);
  }
}

/** Bits per element of sign o top-k with k kept (random support): 1 bit per kept value + indices. */
export function signTopkBitsPerElement(d: number, k: number): number {
  return sparseFamilyBitsPerElement(d, k, HEADER, Math.ceil(k / 8));
}
