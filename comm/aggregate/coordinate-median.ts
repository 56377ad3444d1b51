/**
 * Coordinate-wise median (Yin et al. 2018): out_k = median_i x_i[k].
 * Ties: with an even n the median is the average of the two middle values (so the result of
 * [1, 2, 3, 10] is 2.5). NaN is ordered as +Infinity.
 */
import { checkShapes, loadSortedBlock, SORT_BLOCK, type Aggregator } from './aggregator.ts';

export class CoordinateMedianAggregator implements Aggregator {
  readonly name = 'coordinate-median';
  private buf = new Float64Array(0);

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const n = inputs.length;
    if (this.buf.length !== n * SORT_BLOCK) this.buf = new Float64Array(n * SORT_BLOCK);
    const buf = this.buf;
    const lo = (n - 1) >> 1;
    const hi = n >> 1;
    for (let k0 = 0; k0 < out.length; k0 += SORT_BLOCK) {
      const kb = Math.min(SORT_BLOCK, out.length - k0);
      loadSortedBlock(inputs, k0, kb, buf);
      for (let j = 0; j < kb; j++) out[k0 + j] = lo === hi ? buf[j * n + lo]! : 0.5 * (buf[j * n + lo]! + buf[j * n + hi]!);
    }
  }
}
