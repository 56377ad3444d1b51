// A model plugin: any tfjs LayersModel (here an MLP with optional dropout). dtemu flattens its trainable weights into the vector the
// algorithms exchange and trains it through tfjs's own gradients; parameters are initialised from
// the run's seed (glorot kernels, zero biases) so every worker starts from the same model.
import { defineModel } from 'dtemu';

export default defineModel<{ hidden: number; dropout: number }>({
  options: {
    hidden: { type: 'integer', minimum: 1, default: 64, description: 'Units of the hidden layer.' },
    dropout: { type: 'number', minimum: 0, maximum: 1, exclusiveMaximum: 1, default: 0, description: 'Dropout rate after the hidden layer (off at evaluation).' },
  },
  // Use the `tf` given: the engine's tfjs instance, with its backend selected.
  build: ({ tf, inputShape, classes, options }) => {
    const model = tf.sequential();
    // Images ([28, 28, 1]) are flattened first; feature vectors go straight in.
    if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
    model.add(tf.layers.dense({ units: options.hidden, activation: 'relu', ...(inputShape.length > 1 ? {} : { inputShape }) }));
    if (options.dropout > 0) model.add(tf.layers.dropout({ rate: options.dropout }));
    model.add(tf.layers.dense({ units: Math.max(1, classes) }));
    return model;
  },
});
