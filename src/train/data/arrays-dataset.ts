import { UserError } from '../../util/user-error.ts';
import type { Dataset, Split } from './dataset.ts';
import { valueAt, type NumericArray } from './numeric-array.ts';

/**
 * A data set from arrays (npy or IDX files, or a data module): inputs of shape [n, ...sample]
 * and labels of shape [n] (or [n, 1]). Everything is checked and named by where it came from
 * (file, or the module's key): sample counts of inputs and labels agree, train and test samples
 * have one shape, inputs are finite, labels are class indices (or finite targets).
 */

/** The widest output layer a data set may ask for: a hostile label of 2^31 must not size the model. */
export const MAX_CLASSES = 65536;

export interface ArraySplit {
  x: NumericArray | ArrayLike<number>;
  xShape: number[];
  /** Where the inputs came from, for errors (a file, or `data.module ...: train.x`). */
  xName: string;
  y: NumericArray | ArrayLike<number>;
  yShape: number[];
  yName: string;
}

export interface ArraysSpec {
  name: string;
  train: ArraySplit;
  test: ArraySplit;
  task: 'classification' | 'regression';
  /** Declared number of classes (labels must be below it); inferred as max label + 1 when absent. */
  classes?: number;
}

function sampleShape(s: ArraySplit): number[] {
  if (s.xShape.length < 2) throw new UserError(`${s.xName}: expected inputs of shape (samples, features...) with at least 2 dimensions, found (${s.xShape.join(', ')})`);
  return s.xShape.slice(1);
}

function checkLabelsShape(s: ArraySplit): number {
  const n = s.xShape[0]!;
  const ok = (s.yShape.length === 1 || (s.yShape.length === 2 && s.yShape[1] === 1)) && s.yShape[0] === n;
  if (!ok) throw new UserError(`${s.yName}: expected labels of shape (${n},) like the ${n} samples of ${s.xName}, found (${s.yShape.join(', ')})`);
  if (n === 0) throw new UserError(`${s.xName}: expected at least one sample, found none`);
  return n;
}

/** Inputs as stored: unsigned bytes stay bytes (image data, scaled by 1/255 per batch), the rest float32. */
function inputs(s: ArraySplit, bytes: boolean): Float32Array | Uint8Array {
  if (bytes) return s.x as Uint8Array;
  const src = s.x;
  const out = new Float32Array(src.length);
  for (let i = 0; i < out.length; i++) {
    const v = typeof src[i] === 'bigint' ? Number(src[i]) : (src[i] as number);
    if (!Number.isFinite(v)) throw new UserError(`${s.xName}: value ${i} (sample ${Math.floor(i / (out.length / s.xShape[0]!))}): expected a finite number, found ${v}`);
    out[i] = v;
  }
  return out;
}

function labelAt(y: ArraySplit['y'], i: number): number {
  return ArrayBuffer.isView(y) ? valueAt(y as NumericArray, i) : Number(y[i]);
}

export function datasetFromArrays(spec: ArraysSpec): Dataset {
  const { train, test } = spec;
  const shape = sampleShape(train);
  const testShape = sampleShape(test);
  if (testShape.join() !== shape.join()) throw new UserError(`${test.xName}: expected samples of shape (${shape.join(', ')}) like ${train.xName}, found (${testShape.join(', ')})`);
  for (const s of [train, test]) {
    const n = checkLabelsShape(s);
    const want = n * shape.reduce((a, b) => a * b, 1);
    if (s.x.length !== want) throw new UserError(`${s.xName}: expected ${want} values for shape (${s.xShape.join(', ')}), found ${s.x.length}`);
  }
  const regression = spec.task === 'regression';
  let classes = 0;
  if (!regression) {
    const limit = spec.classes ?? MAX_CLASSES;
    for (const s of [train, test]) {
      const n = s.xShape[0]!;
      for (let i = 0; i < n; i++) {
        const v = labelAt(s.y, i);
        if (!Number.isInteger(v) || v < 0 || v >= limit) {
          throw new UserError(`${s.yName}: label of sample ${i}: expected a class index (an integer 0..${limit - 1}), found ${v}`);
        }
        if (v + 1 > classes) classes = v + 1;
      }
    }
    if (spec.classes !== undefined) classes = spec.classes;
    if (classes < 2) throw new UserError(`${train.yName}: expected labels of at least two classes, found only class 0`);
  }
  const bytes = train.x instanceof Uint8Array && test.x instanceof Uint8Array;
  const split = (s: ArraySplit): Split => {
    const n = s.xShape[0]!;
    let y: Int32Array | Float32Array;
    if (regression) {
      y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = labelAt(s.y, i);
        if (!Number.isFinite(v)) throw new UserError(`${s.yName}: target of sample ${i}: expected a finite number, found ${v}`);
        y[i] = v;
      }
    } else {
      y = new Int32Array(n);
      for (let i = 0; i < n; i++) y[i] = labelAt(s.y, i);
    }
    return { n, x: inputs(s, bytes), y };
  };
  // Images without a channel axis (MNIST's n x 28 x 28) get one, so a cnn can read them.
  const inputShape = shape.length === 2 ? [...shape, 1] : shape;
  return {
    name: spec.name,
    inputShape,
    inputSize: shape.reduce((a, b) => a * b, 1),
    classes,
    train: split(train),
    test: split(test),
    inputScale: bytes ? 1 / 255 : 1,
  };
}
