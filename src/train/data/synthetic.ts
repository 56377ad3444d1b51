import { Rng } from '../../util/rng.ts';
import type { Dataset } from './dataset.ts';

export interface SyntheticSpec {
  kind: 'linear' | 'logistic' | 'blobs';
  samples: number;
  testSamples: number;
  features: number;
  classes: number;
  noise: number;
}

/**
 * Synthetic data generated from the seed, the setting of the gradient-coding papers:
 * - linear: y = x.w* + noise * N(0,1), x ~ N(0, I)
 * - logistic: binary labels, P(y=1) = sigmoid(x.w*)
 * - blobs: `classes` Gaussian clusters with centres ~ N(0, 4 I) and unit spread (noise scales it)
 */
export function makeSynthetic(spec: SyntheticSpec, seed: number): Dataset {
  const d = spec.features;
  const rng = new Rng(seed, 'synthetic', spec.kind);
  const wStar = new Float32Array(d);
  for (let j = 0; j < d; j++) wStar[j] = rng.normal();
  const centres = new Float32Array(spec.classes * d);
  for (let j = 0; j < centres.length; j++) centres[j] = 2 * rng.normal();
  const classes = spec.kind === 'linear' ? 0 : spec.kind === 'logistic' ? 2 : spec.classes;

  const make = (n: number, stream: string) => {
    const r = new Rng(seed, 'synthetic', spec.kind, stream);
    const x = new Float32Array(n * d);
    const y = classes === 0 ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (spec.kind === 'blobs') {
        const c = r.int(classes);
        for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j]! + spec.noise * r.normal();
        y[i] = c;
        continue;
      }
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const v = r.normal();
        x[i * d + j] = v;
        dot += v * wStar[j]!;
      }
      if (spec.kind === 'linear') y[i] = dot + spec.noise * r.normal();
      else y[i] = r.next() < 1 / (1 + Math.exp(-dot)) ? 1 : 0;
    }
    return { n, x, y };
  };
  return {
    name: spec.kind,
    inputShape: [d],
    inputSize: d,
    classes,
    inputScale: 1,
    train: make(spec.samples, 'train'),
    test: make(spec.testSamples, 'test'),
  };
}
