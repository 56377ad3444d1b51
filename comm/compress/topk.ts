/**
 * Top-k sparsification: keep the k = max(1, ceil(ratio * d)) entries of largest magnitude (ties:
 * lower index first, so the result is a function of x alone), send them in the sparse format.
 * Selection is a linear-time radix threshold (topk-select.ts), never a sort.
 */
import { sparseFamilyBitsPerElement } from './bits-formula.ts';
import type { Uniform } from './compressor.ts';
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { encodeSparse, SparseCompressor, type ValueType, valueBytes } from './sparse-codec.ts';
import { TopKGather } from './topk-select.ts';
import { SPARSE_HEADER_BYTES } from './wire-format.ts';

export interface SparseOptions {
  /** Precision of the kept values on the wire (default f32). */
  values?: ValueType;
}

export function checkValueType(values: unknown, who: string): ValueType {
  if (values === undefined) return 'f32';
  if (values !== 'f32' && values !== 'f16') throw new Error(`${who}: values must be 'f32' or 'f16', got ${JSON.stringify(values)}`);
  return values;
}

export class TopK extends SparseCompressor {
  readonly name: string;
  readonly values: ValueType;
  private readonly top = new TopKGather();

  constructor(
    readonly ratio: number,
    options: SparseOptions = {},
  ) {
    super();
    checkRatio(ratio, 'topk');
    this.values = checkValueType(options.values, 'topk');
    this.name = `topk(${fmtRatio(ratio)}${this.values === 'f16' ? ',f16' : ''})`;
  }

  /** The k this compressor keeps of a vector of length d. */
  count(d: number): number {
    return countForRatio(d, this.ratio);
  }

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const d = x.length;
    const k = this.count(d);
    this.top.gather(x, k);
    return encodeSparse(d, k, this.top.idx, this.top.vals, this.values);
  }
}

/**
 * Bits per element of a sparse payload (top-k, random-k, threshold) with k kept values: header,
 * k values, and the expected index section of a uniformly random support (the support of top-k
 * of i.i.d. data and of random-k is one).
 */
export function sparseBitsPerElement(d: number, k: number, values: ValueType = 'f32'): number {
  return sparseFamilyBitsPerElement(d, k, SPARSE_HEADER_BYTES, k * valueBytes(values));
}

/** Bits per element of top-k with this ratio on a vector of length d. */
export function topkBitsPerElement(d: number, ratio: number, values: ValueType = 'f32'): number {
  return sparseBitsPerElement(d, countForRatio(d, ratio), values);
}
