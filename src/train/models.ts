import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.ts';

export type ModelSpec =
  | { kind: 'logistic' }
  | { kind: 'linear' }
  | { kind: 'mlp'; hidden: number[] }
  | { kind: 'cnn'; channels: number[]; kernel: number };

/** One named parameter tensor and where it lives in the flat parameter vector. */
export interface ParamSpec {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  fanIn: number;
  fanOut: number;
  init: 'glorot' | 'zeros';
}

export interface ModelDef {
  kind: ModelSpec['kind'];
  params: ParamSpec[];
  size: number;
  /** Forward-pass FLOPs per sample (multiply-add = 2). Backward is modelled as 2x forward. */
  flopsPerSample: number;
  /** Outputs per sample: classes, or 1 for regression. */
  outputs: number;
  regression: boolean;
  /** Logits (classification) or predictions (regression), shape [batch, outputs]. */
  forward(p: tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D;
}

class ParamList {
  readonly params: ParamSpec[] = [];
  size = 0;
  add(name: string, shape: number[], fanIn: number, fanOut: number, init: ParamSpec['init']): number {
    const size = shape.reduce((a, b) => a * b, 1);
    this.params.push({ name, shape, size, offset: this.size, fanIn, fanOut, init });
    this.size += size;
    return this.params.length - 1;
  }
}

/**
 * Build a model as an ordered list of named parameters plus a pure forward function of them.
 * Keeping parameters as plain tensors (not a tf.LayersModel) lets every worker hold its own flat
 * Float32Array of parameters and lets one process host several logical workers.
 */
export function buildModel(spec: ModelSpec, inputShape: number[], classes: number): ModelDef {
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  const regression = classes === 0;
  const outputs = regression ? 1 : classes;
  const pl = new ParamList();
  switch (spec.kind) {
    case 'logistic':
    case 'linear': {
      if (spec.kind === 'logistic' && regression) throw new Error('model logistic needs a classification data set');
      if (spec.kind === 'linear' && !regression) throw new Error('model linear needs a regression data set');
      pl.add('dense/kernel', [inputSize, outputs], inputSize, outputs, 'zeros');
      pl.add('dense/bias', [outputs], inputSize, outputs, 'zeros');
      return {
        kind: spec.kind,
        params: pl.params,
        size: pl.size,
        flopsPerSample: 2 * inputSize * outputs,
        outputs,
        regression,
        forward: (p, x) => tf.add(tf.matMul(x, p[0] as tf.Tensor2D), p[1]!) as tf.Tensor2D,
      };
    }
    case 'mlp': {
      const sizes = [inputSize, ...spec.hidden, outputs];
      let flops = 0;
      for (let l = 0; l + 1 < sizes.length; l++) {
        pl.add(`dense${l}/kernel`, [sizes[l]!, sizes[l + 1]!], sizes[l]!, sizes[l + 1]!, 'glorot');
        pl.add(`dense${l}/bias`, [sizes[l + 1]!], sizes[l]!, sizes[l + 1]!, 'zeros');
        flops += 2 * sizes[l]! * sizes[l + 1]!;
      }
      const layers = sizes.length - 1;
      return {
        kind: 'mlp',
        params: pl.params,
        size: pl.size,
        flopsPerSample: flops,
        outputs,
        regression,
        forward: (p, x) => {
          let h: tf.Tensor2D = x;
          for (let l = 0; l < layers; l++) {
            h = tf.add(tf.matMul(h, p[2 * l] as tf.Tensor2D), p[2 * l + 1]!) as tf.Tensor2D;
            if (l < layers - 1) h = tf.relu(h);
          }
          return h;
        },
      };
    }
    case 'cnn': {
      if (inputShape.length !== 3) throw new Error('model cnn needs image inputs (height, width, channels)');
      let [h, w, c] = inputShape as [number, number, number];
      const k = spec.kernel;
      let flops = 0;
      for (let l = 0; l < spec.channels.length; l++) {
        const co = spec.channels[l]!;
        pl.add(`conv${l}/kernel`, [k, k, c, co], k * k * c, k * k * co, 'glorot');
        pl.add(`conv${l}/bias`, [co], k * k * c, k * k * co, 'zeros');
        flops += 2 * h * w * k * k * c * co;
        c = co;
        h = Math.ceil(h / 2);
        w = Math.ceil(w / 2);
      }
      const flat = h * w * c;
      pl.add('dense/kernel', [flat, outputs], flat, outputs, 'glorot');
      pl.add('dense/bias', [outputs], flat, outputs, 'zeros');
      flops += 2 * flat * outputs;
      const convs = spec.channels.length;
      const shape = inputShape as [number, number, number];
      return {
        kind: 'cnn',
        params: pl.params,
        size: pl.size,
        flopsPerSample: flops,
        outputs,
        regression,
        forward: (p, x) => {
          let t: tf.Tensor4D = tf.reshape(x, [-1, ...shape]);
          for (let l = 0; l < convs; l++) {
            t = tf.relu(tf.add(tf.conv2d(t, p[2 * l] as tf.Tensor4D, 1, 'same'), p[2 * l + 1]!)) as tf.Tensor4D;
            t = tf.maxPool(t, 2, 2, 'same');
          }
          const f = tf.reshape(t, [-1, flat]) as tf.Tensor2D;
          return tf.add(tf.matMul(f, p[2 * convs] as tf.Tensor2D), p[2 * convs + 1]!) as tf.Tensor2D;
        },
      };
    }
  }
}

/** Seeded Glorot-uniform initial parameters; identical on every worker with the same seed. */
export function initParams(model: ModelDef, seed: number): Float32Array {
  const out = new Float32Array(model.size);
  model.params.forEach((p, i) => {
    if (p.init === 'zeros') return;
    const rng = new Rng(seed, 'init', i);
    const limit = Math.sqrt(6 / (p.fanIn + p.fanOut));
    for (let j = 0; j < p.size; j++) out[p.offset + j] = (2 * rng.next() - 1) * limit;
  });
  return out;
}
