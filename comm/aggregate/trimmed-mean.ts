/**
 * Coordinate-wise beta-trimmed mean (Yin et al. 2018): per coordinate, sort the n values, drop
 * the t = floor(beta n) smallest and the t largest, average the n - 2t left. beta in [0, 0.5);
 * beta = 0 is the mean. Equal values are interchangeable, so ties need no rule. NaN is ordered
 * as +Infinity (dropped among the largest when there are at most t of them).
 */
import { ParameterError } from '../param-error.ts';
import { checkShapes, orderable, sortAscending, type Aggregator } from './aggregator.ts';

export function validateTrimmedMean(beta: number): void {
  if (!(Number.isFinite(beta) && beta >= 0 && beta < 0.5)) {
    throw new ParameterError('beta', 'a fraction 0 <= beta < 0.5', String(beta));
  }
}

export class TrimmedMeanAggregator implements Aggregator {
  readonly name: string;
  private col = new Float64Array(0);

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
    if (this.col.length !== n) this.col = new Float64Array(n);
    const col = this.col;
    const t = this.trimmed(n);
    const inv = 1 / (n - 2 * t);
    for (let k = 0; k < out.length; k++) {
      for (let i = 0; i < n; i++) col[i] = orderable(inputs[i]![k]!);
      sortAscending(col, n);
      let s = 0;
      for (let i = t; i < n - t; i++) s += col[i]!;
      out[k] = s * inv;
    }
  }
}
