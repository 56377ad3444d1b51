import type * as tf from '@tensorflow/tfjs';

/**
 * The few backend methods JS kernels need, common to the wasm and cpu backends: read a tensor's
 * values, and create an output filled from a typed array.
 */
export interface KernelBackend {
  readSync(dataId: object): Float32Array | Int32Array | Uint8Array;
  makeTensorInfo?(shape: number[], dtype: string, values?: Float32Array): tf.TensorInfo;
  makeOutput?(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
}

export function readValues(backend: unknown, t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array {
  return (backend as KernelBackend).readSync(t.dataId);
}

/** Create an output tensor holding `values` on either backend. */
export function writeOutput(backend: unknown, shape: number[], dtype: 'float32' | 'int32', values: Float32Array | Int32Array): tf.TensorInfo {
  const be = backend as KernelBackend;
  if (be.makeOutput && be.typedArrayFromHeap) {
    const out = be.makeOutput(shape, dtype);
    be.typedArrayFromHeap(out).set(values as Float32Array);
    return out;
  }
  if (be.makeTensorInfo) return be.makeTensorInfo(shape, dtype, values as Float32Array);
  throw new Error('backend cannot create outputs from JS');
}
