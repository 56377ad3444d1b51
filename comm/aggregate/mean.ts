/** The plain average (1/n) sum_i x_i, accumulated in float64 in input order. Not robust. */
import { checkShapes, type Aggregator } from './aggregator.ts';

export class MeanAggregator implements Aggregator {
  readonly name = 'mean';
  private acc = new Float64Array(0);

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const d = out.length;
    if (this.acc.length !== d) this.acc = new Float64Array(d);
    const acc = this.acc;
    const x0 = inputs[0]!;
    for (let k = 0; k < d; k++) acc[k] = x0[k]!;
    for (let i = 1; i < inputs.length; i++) {
      const x = inputs[i]!;
      for (let k = 0; k < d; k++) acc[k] = acc[k]! + x[k]!;
    }
    const inv = 1 / inputs.length;
    for (let k = 0; k < d; k++) out[k] = acc[k]! * inv;
  }
}
