// PowerSGD compress + decompress: one PowerSgd.step (single worker, all-reduce a no-op, error
// feedback and warm start on) on 1024x1024 and 4096x1024 gradients at ranks 1, 4, 16, with its
// phases timed separately, next to baselines measured in the same run: a memcpy of M, the dense
// M x Q product alone (the JS kernel of the step's first phase), and for 1024x1024 tfjs-wasm
// matMul of (n x m)(m x r) and (n x m)(m x m), each including the read-back of the result.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulMQ, mulMtP, mulPQt, NormalStream, orthonormalizeColumns, PowerSgd } from '../comm/powersgd/index.ts';
import { timeIt, writeResult } from './bench-io.ts';

const SHAPES: [number, number][] = [
  [1024, 1024],
  [4096, 1024],
];
const RANKS = [1, 4, 16];
const noComm = async (_: Float32Array): Promise<void> => {};

function gaussian(len: number, seed: number): Float32Array {
  const s = new NormalStream(seed);
  const x = new Float32Array(len);
  s.fillNormal(x, 0, len);
  return x;
}

await tf.setBackend('wasm');
await tf.ready();
const tfBackend = tf.getBackend();
const haveWasm = tfBackend === 'wasm';

const t0 = performance.now();
const rows: Record<string, unknown>[] = [];
for (const [n, m] of SHAPES) {
  const M = gaussian(n * m, n);
  const out = new Float32Array(n * m);
  const reps = n * m > 2_000_000 ? 5 : 9;
  const memcpySec = await timeIt(() => out.set(M), 21, 3);
  let tfDense: number | null = null;
  if (haveWasm && n === 1024) {
    const a = tf.tensor2d(M, [n, m]);
    const b = tf.tensor2d(gaussian(m * m, 3), [m, m]);
    tfDense = await timeIt(() => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    }, 3, 1);
    a.dispose();
    b.dispose();
  }
  for (const r of RANKS) {
    const ps = new PowerSgd([{ offset: 0, size: n * m, shape: [n, m] }], { rank: r, seed: 1 }, noComm, 1);
    const stepSec = await timeIt(() => ps.step(M, out), reps, 2);
    // The phases, on the same kernels and buffer sizes.
    const Qt = gaussian(r * m, 7);
    const Pt = new Float32Array(r * n);
    const acc = new Float64Array(r * m);
    const scratch = new Float64Array(r * n);
    const row = new Float64Array(m);
    const residual = Float32Array.from(M);
    const mqSec = await timeIt(() => mulMQ(M, 0, n, m, Qt, 0, r, Pt, 0), reps, 1);
    const orthSec = await timeIt(() => orthonormalizeColumns(Pt, 0, n, r, scratch), reps, 1);
    const mtpSec = await timeIt(() => mulMtP(M, 0, n, m, Pt, 0, r, Qt, 0, acc), reps, 1);
    const pqtSec = await timeIt(() => mulPQt(Pt, 0, Qt, 0, n, m, r, out, 0, residual, 0, row), reps, 1);
    let tfMQ: number | null = null;
    if (haveWasm && n === 1024) {
      const a = tf.tensor2d(M, [n, m]);
      const b = tf.tensor2d(gaussian(m * r, 5), [m, r]);
      tfMQ = await timeIt(() => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      }, 9, 2);
      a.dispose();
      b.dispose();
    }
    const flops = 2 * 3 * n * m * r; // M Q, M^T P, P Q^T
    const res = {
      shape: [n, m],
      rank: r,
      compressionRate: ps.compressionRatio().overall,
      stepSec,
      stepGflops: flops / stepSec / 1e9,
      phases: { mulMQ: mqSec, orthonormalize: orthSec, mulMtP: mtpSec, mulPQtWithResidual: pqtSec },
      baselines: {
        memcpySec,
        denseMQSec: mqSec,
        tfjsWasmMatMulNxMbyMxR: tfMQ,
        tfjsWasmMatMulNxMbyMxM: tfDense,
      },
      stepOverMemcpy: stepSec / memcpySec,
      stepOverDenseMQ: stepSec / mqSec,
      stepOverTfjsMQ: tfMQ === null ? null : stepSec / tfMQ,
    };
    rows.push(res);
    process.stderr.write(
      `${n}x${m} r=${r}: step ${(stepSec * 1e3).toFixed(2)} ms (MQ ${(mqSec * 1e3).toFixed(2)}, orth ${(orthSec * 1e3).toFixed(2)}, MtP ${(mtpSec * 1e3).toFixed(2)}, PQt ${(pqtSec * 1e3).toFixed(2)}); memcpy ${(memcpySec * 1e3).toFixed(3)} ms` +
        (tfMQ === null ? '' : `; tfjs-wasm MQ ${(tfMQ * 1e3).toFixed(2)} ms, MxM ${((tfDense ?? 0) * 1e3).toFixed(1)} ms`) +
        '\n',
    );
  }
}

writeResult('powersgd', {
  note: 'one PowerSgd.step per (shape, rank): single worker, no-op all-reduce, error feedback + warm start; phases timed on the same kernels; baselines (memcpy of M, dense M x Q in JS, tfjs-wasm matMul incl. dataSync) measured in the same run; medians, seconds',
  tfjsBackend: tfBackend,
  totalBenchSec: (performance.now() - t0) / 1000,
  results: rows,
});
