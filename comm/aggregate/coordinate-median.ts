/**
 * Coordinate-wise median (Yin et al. 2018): out_k = median_i x_i[k].
 * Ties: with an even n the median is the average of the two middle values (so the result of
 * [1, 2, 3, 10] is 2.5). NaN is ordered as +Infinity.
 */
import { checkShapes, orderable, sortAscending, type Aggregator } from './aggregator.ts';

export class CoordinateMedianAggregator implements Aggregator {
  readonly name = 'coordinate-median';
  private col = new Float64Array(0);

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const n = inputs.length;
    if (this.col.length !== n) this.col = new Float64Array(n);
    const col = this.col;
    const lo = (n - 1) >> 1;
    const hi = n >> 1;
    for (let k = 0; k < out.length; k++) {
      for (let i = 0; i < n; i++) col[i] = orderable(inputs[i]![k]!);
      sortAscending(col, n);
      out[k] = lo === hi ? col[lo]! : 0.5 * (col[lo]! + col[hi]!);
    }
  }
}
