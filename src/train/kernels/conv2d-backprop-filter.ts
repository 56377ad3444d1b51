import { tf, type TF } from '../tf.ts';
import { readValues, writeOutput } from './backend-io.ts';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Conv2DBackpropFilter, which stock wasm does not register. dW[fh,fw,ci,co] =
 * sum over (b, oh, ow) of x[b, oh*sh + fh - padTop, ow*sw + fw - padLeft, ci] * dy[b, oh, ow, co].
 * Written as im2col then one matrix product: cols^T (K x P) times dy (P x co), using the
 * backend's own fast untransposed BatchMatMul.
 */
export function registerConv2DBackpropFilter(backendName: string): void {
  const matmul = tf.getKernel('BatchMatMul', backendName);
  if (!matmul) throw new Error(`backend ${backendName} lacks BatchMatMul`);
  const mm = matmul.kernelFunc;
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TF.TensorInfo; dy: TF.TensorInfo };
      const a = attrs as unknown as Attrs;
      if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
      const padTop = info.padInfo.top;
      const padLeft = info.padInfo.left;
      const xv = readValues(backend, x) as Float32Array;
      const dyv = readValues(backend, dy) as Float32Array;
      const K = filterHeight * filterWidth * inChannels;
      const P = batchSize * outHeight * outWidth;
      // colsT[k, p], k = (fh*filterWidth + fw)*inChannels + ci, p = (b*outHeight + oh)*outWidth + ow
      const colsT = new Float32Array(K * P);
      for (let fh = 0; fh < filterHeight; fh++) {
        for (let fw = 0; fw < filterWidth; fw++) {
          const kBase = (fh * filterWidth + fw) * inChannels;
          for (let b = 0; b < batchSize; b++) {
            for (let oh = 0; oh < outHeight; oh++) {
              const ih = oh * strideHeight + fh - padTop;
              if (ih < 0 || ih >= inHeight) continue;
              const pRow = (b * outHeight + oh) * outWidth;
              const xRow = (b * inHeight + ih) * inWidth;
              for (let ow = 0; ow < outWidth; ow++) {
                const iw = ow * strideWidth + fw - padLeft;
                if (iw < 0 || iw >= inWidth) continue;
                const xOff = (xRow + iw) * inChannels;
                const p = pRow + ow;
                for (let ci = 0; ci < inChannels; ci++) colsT[(kBase + ci) * P + p] = xv[xOff + ci]!;
              }
            }
          }
        }
      }
      const colsInfo = writeOutput(backend, [1, K, P], 'float32', colsT);
      const dyInfo = writeOutput(backend, [1, P, outChannels], 'float32', dyv);
      const prod = mm({ inputs: { a: colsInfo, b: dyInfo }, backend, attrs: { transposeA: false, transposeB: false } }) as TF.TensorInfo;
      const values = readValues(backend, prod) as Float32Array;
      const out = writeOutput(backend, [filterHeight, filterWidth, inChannels, outChannels], 'float32', values.slice());
      const be = backend as unknown as { disposeData(id: object): void };
      be.disposeData(colsInfo.dataId);
      be.disposeData(dyInfo.dataId);
      be.disposeData(prod.dataId);
      return out;
    },
  });
}
