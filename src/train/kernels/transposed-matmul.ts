import { tf, type TF } from '../tf.ts';

/**
 * wasm's BatchMatMul runs XNNPACK only when neither input is transposed; the transposed forms
 * (which every gradient uses) fall onto a naive loop that is 12-50x slower. This wrapper
 * transposes explicitly with the wasm Transpose kernel, then calls the original fast kernel.
 */
export function registerTransposedMatMul(backendName: string): void {
  const original = tf.getKernel('BatchMatMul', backendName);
  const transpose = tf.getKernel('Transpose', backendName);
  if (!original || !transpose) throw new Error(`backend ${backendName} lacks BatchMatMul/Transpose kernels`);
  const fastMatMul = original.kernelFunc;
  const transposeFn = transpose.kernelFunc;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: TF.TensorInfo; b: TF.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return fastMatMul({ inputs, backend, attrs });
      const swapLast = (t: TF.TensorInfo): TF.TensorInfo => {
        const rank = t.shape.length;
        const perm = Array.from({ length: rank }, (_, i) => i);
        perm[rank - 1] = rank - 2;
        perm[rank - 2] = rank - 1;
        return transposeFn({ inputs: { x: t }, backend, attrs: { perm } }) as TF.TensorInfo;
      };
      const ta = transposeA ? swapLast(a) : a;
      const tb = transposeB ? swapLast(b) : b;
      const out = fastMatMul({ inputs: { a: ta, b: tb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      const be = backend as unknown as { disposeData(id: object): void };
      if (ta !== a) be.disposeData(ta.dataId);
      if (tb !== b) be.disposeData(tb.dataId);
      return out;
    },
  });
}
