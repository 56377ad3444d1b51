// tfjs through tf.ts's require: an ESM import here would make Node lex every tfjs bundle again.
import { tf, type TF } from './tf.ts';
import type { ModelDef, ParamSpec } from './models.ts';
import { isParameterListModel, parameterListModelDef, type ParameterListModel } from './param-list-model.ts';

/** What a model module's `build` returns: a tfjs LayersModel, optionally with its forward FLOPs. */
export interface BuiltLayersModel {
  model: TF.LayersModel;
  /** Forward-pass FLOPs per sample for the compute-time model (default: 2 x parameters). */
  flopsPerSample?: number;
}

/**
 * A tfjs LayersModel as a ModelDef: its trainable weights, in order, are the parameter list
 * (flattened into the communication layer's vector like a built-in's) and the Trainer computes
 * gradients through tfjs's own autodiff on those very variables (`variables`). Parameters are
 * initialised from the run's seed like the built-ins' (glorot for kernels, zeros for 1-D
 * tensors), not by the layers' own initializers, so every worker starts identically.
 */
export function layersModelDef(built: BuiltLayersModel, inputShape: number[], classes: number): ModelDef {
  const lm = built.model;
  const weights = lm.trainableWeights;
  let offset = 0;
  const params: ParamSpec[] = weights.map((w) => {
    const shape = w.shape.map((s) => s ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const receptive = shape.length > 2 ? shape.slice(0, -2).reduce((a, b) => a * b, 1) : 1;
    const fanIn = shape.length >= 2 ? shape[shape.length - 2]! * receptive : size;
    const fanOut = shape.length >= 2 ? shape[shape.length - 1]! * receptive : size;
    const p: ParamSpec = { name: w.originalName, shape, size, offset, fanIn, fanOut, init: shape.length >= 2 ? 'glorot' : 'zeros' };
    offset += size;
    return p;
  });
  const regression = classes === 0;
  const variables = weights.map((w) => w.read() as TF.Variable);
  return {
    kind: 'mlp',
    params,
    size: offset,
    flopsPerSample: built.flopsPerSample ?? 2 * offset,
    outputs: regression ? 1 : classes,
    regression,
    variables,
    // The model reads its own variables, which the Trainer loads with each worker's parameters.
    forward: (_p, x) => lm.apply(tf.reshape(x, [-1, ...inputShape])) as TF.Tensor2D,
  };
}

/**
 * A model module (`model: { module: ./my-model.ts, ...options }`): builds a tfjs LayersModel, or
 * a parameter-list model like the built-ins (`{ params, forward }`, src/train/param-list-model.ts).
 */
export interface ModelPlugin<O extends Record<string, unknown> = Record<string, unknown>> {
  /** JSON Schema properties of its options (with defaults), validated like built-in keys. */
  readonly options?: Record<string, Record<string, unknown>>;
  /**
   * Build the model for the data's input shape and number of classes (0: regression, one
   * output). Use the `tf` given (the engine's tfjs instance and backend).
   */
  build(ctx: { tf: typeof tf; inputShape: number[]; classes: number; options: O }): TF.LayersModel | BuiltLayersModel | ParameterListModel;
}

export function defineModel<O extends Record<string, unknown>>(p: ModelPlugin<O>): ModelPlugin<O> {
  return p;
}

/** The ModelDef of a model module for a data set's shape. */
export function pluginModelDef(p: ModelPlugin, options: Record<string, unknown>, inputShape: number[], classes: number): ModelDef {
  // Building creates variables, possibly before a backend is chosen (the coordinator's preflight
  // only needs the shapes): keep tfjs's "install tfjs-node" banner for the cpu backend quiet.
  tf.env().set('PROD', true);
  const built = p.build({ tf, inputShape, classes, options });
  if (isParameterListModel(built)) return parameterListModelDef(tf, built, inputShape, classes);
  const b = (built instanceof tf.LayersModel ? { model: built } : built) as BuiltLayersModel;
  if (!(b?.model instanceof tf.LayersModel)) throw new Error(`build returned ${b === null ? 'null' : typeof b}, expected a tf.LayersModel, { model } or a parameter list { params, forward }`);
  return layersModelDef(b, inputShape, classes);
}
