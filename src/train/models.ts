import { tf, type TF } from './tf.ts';
import { Rng } from '../util/rng.ts';

export type ModelSpec =
  | { kind: 'logistic' }
  | { kind: 'linear' }
  | { kind: 'mlp'; hidden: number[] }
  | { kind: 'cnn'; channels: number[]; kernel: number }
  | { kind: 'char-lstm'; embed: number; hidden: number };

/** One named parameter tensor and where it lives in the flat parameter vector. */
export interface ParamSpec {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  fanIn: number;
  fanOut: number;
  /**
   * glorot: uniform with limit sqrt(6 / (fanIn + fanOut)); zeros; embedding: uniform with unit
   * variance (limit sqrt(3)); lstm-bias: zeros except the forget-gate quarter (gates i, f, g, o), 1.
   */
  init: 'glorot' | 'zeros' | 'embedding' | 'lstm-bias';
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
  forward(p: TF.Tensor[], x: TF.Tensor2D): TF.Tensor2D;
  /**
   * The variables `forward` reads when it ignores `p` (a tfjs LayersModel, src/train/layers-model.ts):
   * the Trainer loads parameters into these and differentiates with respect to them.
   */
  variables?: TF.Variable[];
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
        forward: (p, x) => tf.add(tf.matMul(x, p[0] as TF.Tensor2D), p[1]!) as TF.Tensor2D,
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
          let h: TF.Tensor2D = x;
          for (let l = 0; l < layers; l++) {
            h = tf.add(tf.matMul(h, p[2 * l] as TF.Tensor2D), p[2 * l + 1]!) as TF.Tensor2D;
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
          let t: TF.Tensor4D = tf.reshape(x, [-1, ...shape]);
          for (let l = 0; l < convs; l++) {
            t = tf.relu(tf.add(tf.conv2d(t, p[2 * l] as TF.Tensor4D, 1, 'same'), p[2 * l + 1]!)) as TF.Tensor4D;
            t = tf.maxPool(t, 2, 2, 'same');
          }
          const f = tf.reshape(t, [-1, flat]) as TF.Tensor2D;
          return tf.add(tf.matMul(f, p[2 * convs] as TF.Tensor2D), p[2 * convs + 1]!) as TF.Tensor2D;
        },
      };
    }
    case 'char-lstm':
      return charLstm(spec, inputShape, classes, pl);
  }
}

/** Seeded initial parameters (see ParamSpec.init); identical on every worker with the same seed. */
export function initParams(model: ModelDef, seed: number): Float32Array {
  const out = new Float32Array(model.size);
  model.params.forEach((p, i) => {
    if (p.init === 'zeros') return;
    if (p.init === 'lstm-bias') {
      const h = p.size / 4;
      out.fill(1, p.offset + h, p.offset + 2 * h);
      return;
    }
    const rng = new Rng(seed, 'init', i);
    const limit = p.init === 'embedding' ? Math.sqrt(3) : Math.sqrt(6 / (p.fanIn + p.fanOut));
    for (let j = 0; j < p.size; j++) out[p.offset + j] = (2 * rng.next() - 1) * limit;
  });
  return out;
}

/** Parameters of char-lstm: embedding V x E, LSTM kernel (E + H) x 4H + bias 4H, output H x V + V. */
export function charLstmParamCount(vocab: number, embed: number, hidden: number): number {
  return vocab * embed + (embed + hidden) * 4 * hidden + 4 * hidden + hidden * vocab + vocab;
}

/**
 * Forward FLOPs per sample of char-lstm (multiply-add = 2, every elementwise op or nonlinearity 1):
 * per time step the gate pre-activations [x_t, h] W + b (2 (E + H) 4H + 4H), the four gate
 * nonlinearities (4H), c = f c + i g (3H), h = o tanh(c) (2H); then the output layer (2 H V + V).
 * The embedding lookup is free. This is the cost of the textbook LSTM, which the compute-time model
 * charges; the implementation below computes the same function in another order (one-hot rows of
 * the projected embedding table), whose real cost differs somewhat.
 */
export function charLstmFlops(context: number, vocab: number, embed: number, hidden: number): number {
  return context * (2 * (embed + hidden) * 4 * hidden + 13 * hidden) + 2 * hidden * vocab + vocab;
}

/**
 * A character-level language model: token ids (as floats, [batch, T]) -> embedding (V x E) -> one
 * LSTM layer (fused kernel [E + H, 4H] over [x_t, h_{t-1}], gates i, f, g, o, forget bias 1)
 * unrolled over the T context positions -> logits over the V tokens from the last hidden state.
 */
function charLstm(spec: { embed: number; hidden: number }, inputShape: number[], classes: number, pl: ParamList): ModelDef {
  if (inputShape.length !== 1 || classes < 2) throw new Error('model char-lstm needs a text data set (token windows, next-token classes)');
  const T = inputShape[0]!;
  const V = classes;
  const E = spec.embed;
  const H = spec.hidden;
  pl.add('embedding', [V, E], V, E, 'embedding');
  pl.add('lstm/kernel', [E + H, 4 * H], E + H, 4 * H, 'glorot');
  pl.add('lstm/bias', [4 * H], E + H, 4 * H, 'lstm-bias');
  pl.add('dense/kernel', [H, V], H, V, 'glorot');
  pl.add('dense/bias', [V], H, V, 'zeros');
  return {
    kind: 'char-lstm',
    params: pl.params,
    size: pl.size,
    flopsPerSample: charLstmFlops(T, V, E, H),
    outputs: V,
    regression: false,
    forward: (p, x) => {
      const [emb, kernel, bias, wOut, bOut] = p as [TF.Tensor2D, TF.Tensor2D, TF.Tensor1D, TF.Tensor2D, TF.Tensor1D];
      const wx = tf.slice(kernel, [0, 0], [E, 4 * H]);
      const wh = tf.slice(kernel, [E, 0], [H, 4 * H]);
      // x_t W_x + b depends on the token only: project the V embeddings once ([V, 4H]) and pick
      // rows with a one-hot matmul per step (its gradient is a plain matmul; on wasm, gather and
      // unstack of [T, batch, 4H] cost more than the whole recurrence).
      const table = tf.add(tf.matMul(emb, wx), bias) as TF.Tensor2D;
      const ids = tf.unstack(tf.cast(tf.transpose(x), 'int32')) as TF.Tensor1D[]; // T x [batch]
      // z = onehot table + h W_h with a hand-written gradient: tfjs's matMul gradient would also
      // differentiate the (constant) one-hot, and would transpose W_h at every step.
      const whT = tf.transpose(wh);
      const gates = (oh: TF.Tensor2D, hPrev: TF.Tensor2D): TF.Tensor2D =>
        tf.customGrad((hp, tab, w, save) => {
          (save as TF.GradSaveFunc)([oh, hp as TF.Tensor2D, whT]);
          const value = tf.add(tf.matMul(oh, tab as TF.Tensor2D), tf.matMul(hp as TF.Tensor2D, w as TF.Tensor2D));
          return {
            value,
            gradFunc: (dz: TF.Tensor, saved: TF.Tensor[]) => {
              const [ohS, hS, whTS] = saved as [TF.Tensor2D, TF.Tensor2D, TF.Tensor2D];
              const d = dz as TF.Tensor2D;
              return [tf.matMul(d, whTS), tf.matMul(ohS, d, true, false), tf.matMul(hS, d, true, false)];
            },
          };
        })(hPrev, table, wh) as TF.Tensor2D;
      let h: TF.Tensor2D | null = null;
      let c: TF.Tensor2D | null = null;
      for (let t = 0; t < T; t++) {
        // Per-step tidy: only h and c (and what the tape saves for the gradient) outlive a step,
        // which keeps a 1000-sample evaluation from holding every step's gates in memory.
        [h, c] = tf.tidy(() => {
          const oh = tf.oneHot(ids[t]!, V) as TF.Tensor2D;
          const z = h ? gates(oh, h) : tf.matMul(oh, table);
          const [zi, zf, zg, zo] = tf.split(z, 4, 1) as [TF.Tensor2D, TF.Tensor2D, TF.Tensor2D, TF.Tensor2D];
          const ig = tf.mul(tf.sigmoid(zi), tf.tanh(zg)) as TF.Tensor2D;
          const cNext = c ? (tf.add(tf.mul(tf.sigmoid(zf), c), ig) as TF.Tensor2D) : ig;
          return [tf.mul(tf.sigmoid(zo), tf.tanh(cNext)) as TF.Tensor2D, cNext];
        });
      }
      return tf.add(tf.matMul(h!, wOut), bOut) as TF.Tensor2D;
    },
  };
}
