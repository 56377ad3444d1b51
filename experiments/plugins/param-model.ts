// A model plugin written like dtemu's built-in models: a list of named parameter tensors and a
// pure forward function of them (no tfjs layers). dtemu keeps the parameters as each worker's
// flat vector, initialises them from the run's seed (glorot for matrices, zeros for vectors
// unless `init` says otherwise), and differentiates `forward` with respect to them.
//
// Here: a one-hidden-layer network with a tanh hidden layer and a linear skip connection,
//   logits = tanh(x W1 + b1) W2 + x S + b2
//
// Only types come from 'dtemu' (`import type` is erased: loading the module costs nothing more);
// `defineModel({ ... })` from 'dtemu' does the same for JavaScript (experiments/plugins/layers-model.ts).
import type { ModelPlugin } from 'dtemu';

const model: ModelPlugin<{ hidden: number }> = {
  options: {
    hidden: { type: 'integer', minimum: 1, default: 32, description: 'Units of the tanh hidden layer.' },
  },
  build: ({ tf, inputShape, classes, options }) => {
    const d = inputShape.reduce((a, b) => a * b, 1); // inputs arrive flat: [batch, d]
    const k = Math.max(1, classes); // classes 0 = regression: one output
    const h = options.hidden;
    return {
      params: [
        { name: 'hidden/kernel', shape: [d, h] },
        { name: 'hidden/bias', shape: [h] },
        { name: 'out/kernel', shape: [h, k] },
        { name: 'skip/kernel', shape: [d, k], init: 'zeros' },
        { name: 'out/bias', shape: [k] },
      ],
      forward: ([w1, b1, w2, s, b2], x) => {
        const hidden = tf.tanh(tf.add(tf.matMul(x, w1 as typeof x), b1!));
        return tf.add(tf.add(tf.matMul(hidden, w2 as typeof x), tf.matMul(x, s as typeof x)), b2!) as typeof x;
      },
      // multiply-adds of the three matrix products (tanh and additions not counted)
      flopsPerSample: 2 * (d * h + h * k + d * k),
    };
  },
};

export default model;
