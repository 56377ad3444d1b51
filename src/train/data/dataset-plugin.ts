import { UserError } from '../../util/user-error.ts';
import { datasetFromArrays, type ArraySplit } from './arrays-dataset.ts';
import type { Dataset } from './dataset.ts';

/**
 * A data module (`data: { module: ./my-data.ts, ...options }`): its default export, made with
 * `defineDataset`, returns the arrays; dtemu checks them like its own file formats (shapes,
 * finite inputs, labels 0..classes-1) and partitions, batches and evaluates them like a built-in
 * data set. `load` runs once per process (the coordinator and each worker process) and must give
 * the same arrays every time for the same options and seed, or runs are not reproducible.
 */

/** One split: `x` holds samples * prod(inputShape) values in row-major order, `y` one label per sample. */
export interface DatasetSplitArrays {
  x: Float32Array | Float64Array | Uint8Array | ArrayLike<number>;
  y: Int32Array | Float32Array | Float64Array | Uint8Array | ArrayLike<number>;
}

export interface DatasetArrays {
  /** Shape of one sample, e.g. [20] for feature vectors or [28, 28, 1] for images. */
  inputShape: number[];
  /**
   * Number of classes (labels must be integers 0..classes-1); 0 for regression (real targets,
   * one output); inferred as the largest label + 1 when absent.
   */
  classes?: number;
  train: DatasetSplitArrays;
  test: DatasetSplitArrays;
  /**
   * Inputs given as bytes (Uint8Array) are image data scaled by 1/255 when a batch is filled, as
   * the built-in Fashion-MNIST; give float arrays to use values as they are.
   */
}

export interface DatasetPlugin<O extends Record<string, unknown> = Record<string, unknown>> {
  /** JSON Schema properties of its options (with defaults), validated like built-in keys. */
  readonly options?: Record<string, Record<string, unknown>>;
  /** The arrays, for these options and the run's seed; `dir` is the experiment file's directory. */
  load(ctx: { options: O; seed: number; dir: string }): DatasetArrays | Promise<DatasetArrays>;
}

export function defineDataset<O extends Record<string, unknown>>(p: DatasetPlugin<O>): DatasetPlugin<O> {
  return p;
}

const isArrayish = (v: unknown): v is ArrayLike<number> => ArrayBuffer.isView(v) || Array.isArray(v);

/** A module's arrays as a Dataset; every problem is one line naming the module (`where`). */
export function datasetFromPlugin(arrays: unknown, where: string): Dataset {
  const a = arrays as Partial<DatasetArrays> | null;
  if (a === null || typeof a !== 'object') throw new UserError(`${where}: expected load() to return { inputShape, train: { x, y }, test: { x, y } }, found ${a === null ? 'null' : typeof a}`);
  const shape = a.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new UserError(`${where}: inputShape: expected a list of positive integers, found ${JSON.stringify(shape)}`);
  }
  if (a.classes !== undefined && (!Number.isSafeInteger(a.classes) || a.classes < 0 || a.classes === 1)) {
    throw new UserError(`${where}: classes: expected 0 (regression) or an integer >= 2, found ${JSON.stringify(a.classes)}`);
  }
  const size = shape.reduce((p, d) => p * d, 1);
  const split = (key: 'train' | 'test'): ArraySplit => {
    const s = a[key];
    if (!s || !isArrayish(s.x) || !isArrayish(s.y)) throw new UserError(`${where}: ${key}: expected { x, y } with x and y arrays (typed arrays or number lists), found ${s === undefined ? 'nothing' : 'something else'}`);
    const n = s.y.length;
    if (s.x.length !== n * size) {
      throw new UserError(`${where}: ${key}.x: expected ${n} samples (one per label in ${key}.y) x ${size} values (inputShape ${JSON.stringify(shape)}) = ${n * size}, found ${s.x.length}`);
    }
    return { x: s.x, xShape: [n, ...shape], xName: `${where}: ${key}.x`, y: s.y, yShape: [n], yName: `${where}: ${key}.y` };
  };
  const ds = datasetFromArrays({
    name: 'module',
    train: split('train'),
    test: split('test'),
    task: a.classes === 0 ? 'regression' : 'classification',
    ...(a.classes ? { classes: a.classes } : {}),
  });
  // The module's inputShape as given (datasetFromArrays adds a channel axis to 2-D samples).
  return { ...ds, inputShape: [...shape] };
}
