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
import { checkLevels, l2NormF32, packedBytes, quantizePack, unpackAdd } from './qsgd.ts';
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { readSparseFamily, sparseFamilyPayload } from './sparse-codec.ts';
import { TopKGather } from './topk-select.ts';
import { dataView, Format, SPARSE_HEADER_BYTES } from './wire-format.ts';

const HEADER = SPARSE_HEADER_BYTES + 8; // + u32 s + f32 norm

export class QsgdTopK implements Compressor {
  readonly name: string;
  readonly dense = false;
  private readonly top = new TopKGather();
  private idx = new Uint32Array(0);

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
    this.top.gather(x, k);
    const vals = this.top.vals;
    const norm = l2NormF32(vals, k);
    const p = sparseFamilyPayload(Format.qsgdTopk, d, k, this.top.idx, 0, 8 + packedBytes(k, s));
    const dv = dataView(p);
    dv.setUint32(SPARSE_HEADER_BYTES, s, true);
    dv.setFloat32(SPARSE_HEADER_BYTES + 4, norm, true);
    quantizePack(vals, k, norm, s, uniform, p, HEADER);
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.decodeAdd(payload, out, 1);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    // The levels s (validated) size the packed section before the indices.
    const levels = (dv: DataView) => checkLevels(dv.getUint32(SPARSE_HEADER_BYTES, true), this.name);
    const { dv, k, idx } = readSparseFamily(payload, Format.qsgdTopk, out.length, this.name, HEADER, 0, (n, v) => 8 + packedBytes(n, levels(v)), 'levels', this.idx);
    this.idx = idx;
    unpackAdd(payload, HEADER, k, dv.getFloat32(SPARSE_HEADER_BYTES + 4, true), levels(dv), out, scale, idx);
  }
}

/** Bits per element of QSGD(s) o top-k with k kept (random support): (b + 1) bits per kept value + indices. */
export function qsgdTopkBitsPerElement(d: number, k: number, s: number): number {
  return sparseFamilyBitsPerElement(d, k, HEADER, packedBytes(k, s));
}
