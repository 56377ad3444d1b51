/**
 * Geometric median argmin_z sum_i ||z - x_i||_2 by the smoothed Weiszfeld iteration (Weiszfeld
 * 1937; the smoothing nu of Pillutla, Kakade, Harchaoui, "Robust aggregation for federated
 * learning", 2019):
 *
 *   z <- sum_i w_i x_i / sum_i w_i,   w_i = 1 / max(nu, ||z - x_i||)
 *
 * started at the coordinate-wise median (finite whenever a majority of each coordinate is), and
 * stopped when ||z_new - z|| <= tol * max(1, ||z_new||) or after maxIter iterations
 * (`iterations` and `converged` report which). nu keeps a weight finite when z lands on an input.
 * An input at non-finite distance (it holds NaN or +-Infinity) gets weight 0: it is infinitely
 * far. All arithmetic is float64; the result is rounded to float32 once.
 */
import { ParameterError } from '../param-error.ts';
import { checkShapes, type Aggregator } from './aggregator.ts';
import { CoordinateMedianAggregator } from './coordinate-median.ts';

export interface GeometricMedianOptions {
  /** Relative step tolerance. Default 1e-6. */
  tol?: number;
  /** Iteration cap. Default 100. */
  maxIter?: number;
  /** Smoothing: distances below nu count as nu. Default 1e-6 (Pillutla et al.'s value). */
  nu?: number;
}

export function validateGeometricMedian(o: GeometricMedianOptions): void {
  if (o.tol !== undefined && !(o.tol > 0 && Number.isFinite(o.tol))) {
    throw new ParameterError('tol', 'a tolerance > 0', String(o.tol));
  }
  if (o.maxIter !== undefined && !(Number.isInteger(o.maxIter) && o.maxIter >= 1)) {
    throw new ParameterError('maxIter', 'an integer >= 1', String(o.maxIter));
  }
  if (o.nu !== undefined && !(o.nu > 0 && Number.isFinite(o.nu))) {
    throw new ParameterError('nu', 'a smoothing distance > 0', String(o.nu));
  }
}

export class GeometricMedianAggregator implements Aggregator {
  readonly name = 'geometric-median';
  readonly tol: number;
  readonly maxIter: number;
  readonly nu: number;
  /** Iterations the last call ran, and whether it met the tolerance before the cap. */
  iterations = 0;
  converged = false;
  private readonly median = new CoordinateMedianAggregator();
  private start = new Float32Array(0);
  private z = new Float64Array(0);
  private zNew = new Float64Array(0);
  private w = new Float64Array(0);

  constructor(o: GeometricMedianOptions = {}) {
    validateGeometricMedian(o);
    this.tol = o.tol ?? 1e-6;
    this.maxIter = o.maxIter ?? 100;
    this.nu = o.nu ?? 1e-6;
  }

  aggregate(inputs: readonly Float32Array[], out: Float32Array): void {
    checkShapes(this.name, inputs, out);
    const n = inputs.length;
    const d = out.length;
    if (this.z.length !== d) {
      this.start = new Float32Array(d);
      this.z = new Float64Array(d);
      this.zNew = new Float64Array(d);
    }
    if (this.w.length !== n) this.w = new Float64Array(n);
    this.median.aggregate(inputs, this.start);
    let z = this.z;
    let zNew = this.zNew;
    for (let k = 0; k < d; k++) z[k] = this.start[k]!;
    const w = this.w;
    this.converged = false;
    this.iterations = 0;
    while (this.iterations < this.maxIter) {
      this.iterations++;
      let wSum = 0;
      for (let i = 0; i < n; i++) {
        const x = inputs[i]!;
        let s = 0;
        for (let k = 0; k < d; k++) {
          const t = z[k]! - x[k]!;
          s += t * t;
        }
        const dist = Math.sqrt(s);
        w[i] = Number.isFinite(dist) ? 1 / Math.max(this.nu, dist) : 0;
        wSum += w[i]!;
      }
      zNew.fill(0);
      for (let i = 0; i < n; i++) {
        const wi = w[i]!;
        if (wi === 0) continue;
        const x = inputs[i]!;
        for (let k = 0; k < d; k++) zNew[k] = zNew[k]! + wi * x[k]!;
      }
      let step = 0;
      let norm = 0;
      const inv = 1 / wSum;
      for (let k = 0; k < d; k++) {
        const v = zNew[k]! * inv;
        zNew[k] = v;
        const t = v - z[k]!;
        step += t * t;
        norm += v * v;
      }
      const swap = z;
      z = zNew;
      zNew = swap;
      if (Math.sqrt(step) <= this.tol * Math.max(1, Math.sqrt(norm))) {
        this.converged = true;
        break;
      }
    }
    this.z = z;
    this.zNew = zNew;
    for (let k = 0; k < d; k++) out[k] = z[k]!;
  }
}
