/**
 * Random-k sparsification: k = max(1, ceil(ratio * d)) distinct indices, uniformly at random.
 * Unscaled by default (a contraction, what error feedback wants); with `scaled` the kept values
 * are multiplied by d / k, which makes the estimate unbiased: each index is kept with
 * probability k / d.
 *
 * Sampling is Floyd's algorithm: for j = d-k .. d-1 draw t uniform in [0, j]; take t unless it is
 * already taken, else take j. That is exactly k uniforms and a uniform k-subset. "Taken" is a
 * bitmap kept between calls (cleared while reading it out), and reading the bitmap word by word
 * yields the indices already sorted, as the delta index coding wants, in O(k + d/32).
 */
import type { Uniform } from './compressor.ts';
import { checkRatio, countForRatio, fmtRatio } from './ratio.ts';
import { growF32, growU32 } from './scratch.ts';
import { encodeSparse, SparseCompressor, type ValueType } from './sparse-codec.ts';
import { checkValueType, sparseBitsPerElement, type SparseOptions } from './topk.ts';

export interface RandomKOptions extends SparseOptions {
  /** Multiply kept values by d / k (unbiased). Default false. */
  scaled?: boolean;
}

export class RandomK extends SparseCompressor {
  readonly name: string;
  readonly values: ValueType;
  readonly scaled: boolean;
  private bitmap = new Uint32Array(0);
  private vals = new Float32Array(0);

  constructor(
    readonly ratio: number,
    options: RandomKOptions = {},
  ) {
    super();
    checkRatio(ratio, 'randomk');
    this.values = checkValueType(options.values, 'randomk');
    this.scaled = options.scaled === true;
    this.name = `randomk(${fmtRatio(ratio)}${this.scaled ? ',scaled' : ''}${this.values === 'f16' ? ',f16' : ''})`;
  }

  count(d: number): number {
    return countForRatio(d, this.ratio);
  }

  /**
   * Draws exactly k uniforms. Kept value: x_i, or fround(x_i * (d / k)) when scaled (then
   * rounded to fp16 if values = 'f16').
   */
  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    const d = x.length;
    const k = this.count(d);
    const idx = (this.idx = growU32(this.idx, k));
    const vals = (this.vals = growF32(this.vals, k));
    const words = Math.ceil(d / 32);
    if (this.bitmap.length < words) this.bitmap = new Uint32Array(words);
    const bm = this.bitmap;
    for (let j = d - k; j < d; j++) {
      let t = Math.floor(uniform() * (j + 1));
      if (t > j) t = j; // a callback returning 1.0 must not escape the range
      const w = t >>> 5;
      const m = 1 << (t & 31);
      if ((bm[w]! & m) !== 0) bm[j >>> 5] = bm[j >>> 5]! | (1 << (j & 31));
      else bm[w] = bm[w]! | m;
    }
    let o = 0;
    for (let w = 0; o < k; w++) {
      let word = bm[w]!;
      if (word === 0) continue;
      bm[w] = 0;
      const base = w * 32;
      while (word !== 0) {
        const low = word & -word;
        idx[o++] = base + 31 - Math.clz32(low);
        word ^= low;
      }
    }
    const s = d / k;
    if (this.scaled) for (let j = 0; j < k; j++) vals[j] = x[idx[j]!]! * s;
    else for (let j = 0; j < k; j++) vals[j] = x[idx[j]!]!;
    return encodeSparse(d, k, idx, vals, this.values);
  }
}

/** Bits per element of random-k (its support is uniformly random, so this is the exact mean). */
export function randomkBitsPerElement(d: number, ratio: number, values: ValueType = 'f32'): number {
  return sparseBitsPerElement(d, countForRatio(d, ratio), values);
}
