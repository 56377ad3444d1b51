/**
 * Threshold sparsification: keep every x_i with |x_i| >= tau (NaN is never >= tau: dropped). The
 * number kept depends on the data, from 0 to d; the payload is the sparse format.
 */
import type { Uniform } from './compressor.ts';
import { growF32, growU32 } from './scratch.ts';
import { encodeSparse, SparseCompressor, type ValueType } from './sparse-codec.ts';
import { checkValueType, sparseBitsPerElement, type SparseOptions } from './topk.ts';

export function checkTau(tau: unknown, who: string): number {
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau < 0) {
    throw new Error(`${who}: tau must be a finite number >= 0, got ${JSON.stringify(tau)}`);
  }
  return tau;
}

export class Threshold extends SparseCompressor {
  readonly name: string;
  readonly values: ValueType;
  private vals = new Float32Array(0);

  constructor(
    readonly tau: number,
    options: SparseOptions = {},
  ) {
    super();
    checkTau(tau, 'threshold');
    this.values = checkValueType(options.values, 'threshold');
    this.name = `threshold(${tau}${this.values === 'f16' ? ',f16' : ''})`;
  }

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const d = x.length;
    const tau = this.tau;
    // One pass; the scratch lists grow (rarely: they are kept between calls) when full.
    let idx = this.idx;
    let vals = this.vals;
    let k = 0;
    for (let i = 0; i < d; i++) {
      const v = x[i]!;
      if (Math.abs(v) >= tau) {
        if (k === idx.length) {
          idx = this.idx = growU32(idx, 2 * k + 1024);
          vals = this.vals = growF32(vals, 2 * k + 1024);
        }
        idx[k] = i;
        vals[k++] = v;
      }
    }
    return encodeSparse(d, k, idx, vals, this.values);
  }
}

/** Bits per element of a threshold payload that kept k of d (support assumed uniformly random). */
export function thresholdBitsPerElement(d: number, k: number, values: ValueType = 'f32'): number {
  return sparseBitsPerElement(d, k, values);
}
