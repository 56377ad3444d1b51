import type * as tfType from '@tensorflow/tfjs';
import type { ModelDef, ParamSpec } from './models.ts';

/**
 * A model written like the built-ins (src/train/models.ts): an ordered list of named parameter
 * tensors and a pure forward function of them. dtemu owns the parameters (flat Float32Array per
 * worker, initialised from the run's seed), the Trainer differentiates the forward function with
 * respect to them, and one process can host many logical workers on it, exactly as for `mlp`.
 */
export interface ParamDecl {
  name: string;
  shape: number[];
  /**
   * glorot (default for 2-D and larger): uniform, limit sqrt(6 / (fanIn + fanOut)); zeros (default
   * for 1-D); embedding: uniform with unit variance.
   */
  init?: 'glorot' | 'zeros' | 'embedding';
  /** For glorot; default from the shape like Keras (second-to-last and last axis x receptive field). */
  fanIn?: number;
  fanOut?: number;
}

export interface ParameterListModel {
  params: ParamDecl[];
  /**
   * Logits [batch, classes] (or predictions [batch, 1] for regression) from the parameters, in
   * the order declared, and a batch of flat inputs [batch, prod(inputShape)]: reshape as needed.
   */
  forward(p: tfType.Tensor[], x: tfType.Tensor2D): tfType.Tensor2D;
  /** Forward-pass FLOPs per sample for the compute-time model (default: 2 x parameters). */
  flopsPerSample?: number;
}

export function isParameterListModel(v: unknown): v is ParameterListModel {
  return v !== null && typeof v === 'object' && Array.isArray((v as ParameterListModel).params) && typeof (v as ParameterListModel).forward === 'function';
}

/** Keras's fans for a kernel shape: [..., in, out] times the receptive field. */
export function fansOf(shape: number[]): { fanIn: number; fanOut: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length < 2) return { fanIn: size, fanOut: size };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/**
 * The ModelDef of a parameter-list model, checked: names unique, shapes of positive integers,
 * known inits, and one forward pass on zeros that must give [2, outputs] (a wrong output width
 * is an input error before the run, not a tfjs shape error in the first step).
 */
export function parameterListModelDef(tf: typeof tfType, m: ParameterListModel, inputShape: number[], classes: number): ModelDef {
  const regression = classes === 0;
  const outputs = regression ? 1 : classes;
  const seen = new Set<string>();
  let offset = 0;
  const params: ParamSpec[] = m.params.map((d, i) => {
    const where = `params[${i}]`;
    if (typeof d?.name !== 'string' || d.name === '') throw new Error(`${where}.name: expected a non-empty string, found ${JSON.stringify(d?.name)}`);
    if (seen.has(d.name)) throw new Error(`${where}.name: expected unique names, found ${d.name} twice`);
    seen.add(d.name);
    if (!Array.isArray(d.shape) || d.shape.length === 0 || d.shape.some((s) => !Number.isSafeInteger(s) || s < 1)) {
      throw new Error(`${where}.shape (${d.name}): expected a list of positive integers, found ${JSON.stringify(d.shape)}`);
    }
    const init = d.init ?? (d.shape.length >= 2 ? 'glorot' : 'zeros');
    if (!['glorot', 'zeros', 'embedding'].includes(init)) throw new Error(`${where}.init (${d.name}): expected glorot, zeros or embedding, found ${JSON.stringify(d.init)}`);
    const size = d.shape.reduce((a, b) => a * b, 1);
    const fans = fansOf(d.shape);
    const p: ParamSpec = { name: d.name, shape: [...d.shape], size, offset, fanIn: d.fanIn ?? fans.fanIn, fanOut: d.fanOut ?? fans.fanOut, init };
    offset += size;
    return p;
  });
  if (params.length === 0) throw new Error('params: expected at least one parameter tensor, found none');
  const inputSize = inputShape.reduce((a, b) => a * b, 1);
  let got: number[] | null = null;
  // The shape is read inside tidy and kept outside it (tidy must return tensors only).
  tf.tidy(() => {
    const out = m.forward(
      params.map((p) => tf.zeros(p.shape)),
      tf.zeros([2, inputSize]) as tfType.Tensor2D,
    );
    got = out instanceof tf.Tensor ? [...out.shape] : null;
  });
  got = got as number[] | null;
  if (got === null) throw new Error('forward: expected a tf.Tensor2D of outputs, found something else');
  if (got.length !== 2 || got[0] !== 2 || got[1] !== outputs) {
    throw new Error(`forward: expected outputs of shape [batch, ${outputs}] (${regression ? 'regression' : `${classes} classes`}), found [${got.join(', ')}] for a batch of 2`);
  }
  return {
    kind: 'mlp',
    params,
    size: offset,
    flopsPerSample: m.flopsPerSample ?? 2 * offset,
    outputs,
    regression,
    forward: (p, x) => m.forward(p, x),
  };
}
