import { tf, type TF } from '../tf.ts';
import { readValues, writeOutput } from './backend-io.ts';

/**
 * UnsortedSegmentSum, which stock wasm does not register (embedding gradients need it):
 * out[s, ...] = sum of x[i, ...] over i with segmentIds[i] == s; ids outside [0, numSegments)
 * are dropped, as in TensorFlow.
 */
export function registerUnsortedSegmentSum(backendName: string): void {
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: TF.TensorInfo; segmentIds: TF.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const xv = readValues(backend, x);
      const ids = readValues(backend, segmentIds);
      const nIds = ids.length;
      // segmentIds may cover several leading dims of x; the rest is the inner row.
      const inner = nIds === 0 ? 0 : xv.length / nIds;
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const isInt = x.dtype === 'int32';
      const out = isInt ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < nIds; i++) {
        const s = ids[i]!;
        if (s < 0 || s >= numSegments) continue;
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) out[dst + j] = out[dst + j]! + xv[src + j]!;
      }
      return writeOutput(backend, outShape, isInt ? 'int32' : 'float32', out);
    },
  });
}
