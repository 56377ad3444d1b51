import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasmKernels } from '../src/train/backend.ts';
import { Rng } from '../src/util/rng.ts';

/**
 * Every kernel dtemu adds to (or wraps on) the wasm backend, checked against tfjs's own cpu
 * backend on random shapes: max |wasm - cpu| <= 1e-5 * max(1, |cpu|) elementwise.
 */
function rand(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal());
}

async function onBackend(name: string, f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name);
  expect(tf.getBackend()).toBe(name);
  const t = f();
  const v = Float32Array.from(t.dataSync());
  t.dispose();
  return v;
}

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!)));
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  patchWasmKernels();
});

describe('wasm kernels match cpu', () => {
  it('BatchMatMul with transposed inputs (2-D and batched)', async () => {
    const rng = new Rng(1, 'matmul');
    for (let trial = 0; trial < 12; trial++) {
      const m = 1 + rng.int(40);
      const k = 1 + rng.int(40);
      const n = 1 + rng.int(40);
      const batch = trial % 3 === 0 ? 1 + rng.int(3) : 0;
      const ta = rng.next() < 0.5;
      const tb = !ta || rng.next() < 0.5;
      const pre = batch ? [batch] : [];
      const aShape = [...pre, ...(ta ? [k, m] : [m, k])];
      const bShape = [...pre, ...(tb ? [n, k] : [k, n])];
      const av = rand(aShape, rng);
      const bv = rand(bShape, rng);
      const mk = (v: Float32Array, s: number[]) => tf.tensor(v, s) as tf.Tensor as tf.Tensor2D;
      const f = () => tf.matMul(mk(av, aShape), mk(bv, bShape), ta, tb) as tf.Tensor;
      expectClose(await onBackend('wasm', f), await onBackend('cpu', f));
    }
  });

  it('Conv2DBackpropFilter (same/valid padding, strides 1 and 2)', async () => {
    const rng = new Rng(2, 'conv');
    for (let trial = 0; trial < 10; trial++) {
      const b = 1 + rng.int(3);
      const h = 4 + rng.int(9);
      const w = 4 + rng.int(9);
      const ci = 1 + rng.int(4);
      const co = 1 + rng.int(5);
      const k = [1, 2, 3, 5][rng.int(4)]!;
      const stride = 1 + rng.int(2);
      const pad = rng.next() < 0.5 ? 'same' : 'valid';
      if (pad === 'valid' && (k > h || k > w)) continue;
      const xv = rand([b, h, w, ci], rng);
      const x4 = () => tf.tensor4d(xv, [b, h, w, ci]);
      const outShape = tf.tidy(() => tf.conv2d(x4(), tf.zeros([k, k, ci, co]) as tf.Tensor4D, stride, pad).shape);
      const dyv = rand(outShape, rng);
      const f = () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: x4(), dy: tf.tensor4d(dyv, outShape as [number, number, number, number]) }, {
          strides: stride,
          pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          filterShape: [k, k, ci, co],
        } as never) as tf.Tensor;
      expectClose(await onBackend('wasm', f), await onBackend('cpu', f));
    }
  });

  it('UnsortedSegmentSum (float, 1-D and 2-D, out-of-range ids dropped)', async () => {
    const rng = new Rng(3, 'segsum');
    for (let trial = 0; trial < 10; trial++) {
      const n = 1 + rng.int(30);
      const inner = trial % 2 ? 1 + rng.int(6) : 0;
      const segs = 1 + rng.int(8);
      const shape = inner ? [n, inner] : [n];
      const xv = rand(shape, rng);
      const ids = Int32Array.from({ length: n }, () => rng.int(segs + 1) - (trial === 3 ? 1 : 0));
      const f = () => tf.unsortedSegmentSum(tf.tensor(xv, shape), tf.tensor1d(ids, 'int32'), segs);
      expectClose(await onBackend('wasm', f), await onBackend('cpu', f));
    }
  });

  it('gradient of a small CNN matches cpu end to end', async () => {
    const rng = new Rng(4, 'cnn');
    const xv = rand([4, 8, 8, 1], rng);
    const wv = rand([3, 3, 1, 4], rng);
    const f = () =>
      tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.maxPool(tf.relu(tf.conv2d(tf.tensor4d(xv, [4, 8, 8, 1]), w as tf.Tensor4D, 1, 'same')), 2, 2, 'same'))))(
        tf.tensor4d(wv, [3, 3, 1, 4]),
      );
    expectClose(await onBackend('wasm', f), await onBackend('cpu', f));
  });
});
