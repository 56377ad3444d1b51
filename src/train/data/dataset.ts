/**
 * A data set held in memory. Inputs are row-major samples of `inputSize` values; Fashion-MNIST
 * keeps raw bytes (scaled to [0,1] when a batch is filled) to keep a process's memory small.
 */
export interface Split {
  n: number;
  /** n * inputSize values. */
  x: Float32Array | Uint8Array;
  /** Class labels (classification) or targets (regression). */
  y: Int32Array | Float32Array;
}

export interface Dataset {
  name: string;
  inputShape: number[];
  inputSize: number;
  /** Number of classes, or 0 for regression. */
  classes: number;
  train: Split;
  test: Split;
  /** Scale applied to stored inputs when filling a batch (1/255 for image bytes). */
  inputScale: number;
}

/** Copy the samples at `indices` into preallocated batch buffers (no allocation). */
export function fillBatch(ds: Dataset, split: Split, indices: ArrayLike<number>, count: number, outX: Float32Array, outY: Float32Array | Int32Array): void {
  const d = ds.inputSize;
  const scale = ds.inputScale;
  for (let b = 0; b < count; b++) {
    const i = indices[b]!;
    const src = i * d;
    const dst = b * d;
    if (scale === 1) outX.set(split.x.subarray(src, src + d), dst);
    else for (let j = 0; j < d; j++) outX[dst + j] = split.x[src + j]! * scale;
    outY[b] = split.y[i]!;
  }
}
