/**
 * Coordinate-wise beta-trimmed mean (Yin et al. 2018): per coordinate, sort the n values, drop
 * the t = floor(beta n) smallest and the t largest, average the n - 2t left. beta in [0, 0.5);
 * beta = 0 is the mean. Equal values are interchangeable, so ties need no rule. NaN is ordered
 * as +Infinity (dropped among the largest when there are at most t of them).
 */
import { ParameterError } from '../param-error.ts';
import { checkShapes, loadSortedBlock, SORT_BLOCK, type Aggregator } from './aggregator.ts';

export function validateTrimmedMean(beta: number): void {
  if (!(Number.isFinite(beta) && beta >= 0 && beta < 0.5)) {
    throw new ParameterError('beta', 'a fraction 0 <= beta < 0.5', String(beta));
  }
}

export class TrimmedMeanAggregator implements Aggregator {
  readonly name: string;
  private buf = new Float64Array(0);

  constructor(readonly beta: number) {
    validateTrimmedMean(beta);
    this.name = `trimmed-mean(beta=${beta})`;
  }

  /** How many values are dropped at each end for n inputs. */
  trimmed(n: number): number {
    return Math.floor(this.beta * n);
  }

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const n = inputs.length;
    if (this.buf.length !== n * SORT_BLOCK) this.buf = new Float64Array(n * SORT_BLOCK);
    const buf = this.buf;
    const t = this.trimmed(n);
    const inv = 1 / (n - 2 * t);
    for (let k0 = 0; k0 < out.length; k0 += SORT_BLOCK) {
      const kb = Math.min(SORT_BLOCK, out.length - k0);
      loadSortedBlock(inputs, k0, kb, buf);
      for (let j = 0; j < kb; j++) {
        let s = 0;
        for (let i = j * n + t; i < j * n + n - t; i++) s += buf[i]!;
        out[k0 + j] = s * inv;
      }
    }
  }
}
