// Training-step time (forward + backward + gradient read-back) per available backend for the
// Fashion-MNIST MLP and CNN, with the wasm MLP step as the in-run baseline.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { patchWasmKernels } from '../src/train/backend.ts';
import { BatchSampler } from '../src/train/data/batch-sampler.ts';
import { loadFashionMnist } from '../src/train/data/fashion-mnist.ts';
import { buildModel, initParams, type ModelSpec } from '../src/train/models.ts';
import { Trainer } from '../src/train/trainer.ts';
import { timeIt, writeResult } from './bench-io.ts';

const BATCH = Number(process.env['BENCH_BATCH'] ?? 64);
const ds = loadFashionMnist();
// 'wasm-stock' first: wasm before dtemu registers its kernels (patching cannot be undone).
const backends = ['wasm-stock', 'wasm', 'cpu'];
try {
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
  await import('@tensorflow/tfjs-node' as string);
  backends.unshift('tensorflow');
} catch {
  /* optional accelerator absent */
}
const models: Record<string, ModelSpec> = { mlp: { kind: 'mlp', hidden: [256] }, cnn: { kind: 'cnn', channels: [8, 16], kernel: 3 } };
const rows: Record<string, Record<string, number>> = {};
for (const b of backends) {
  const engine = b === 'wasm-stock' ? 'wasm' : b;
  await tf.setBackend(engine);
  await tf.ready();
  if (tf.getBackend() !== engine) continue;
  if (b === 'wasm') patchWasmKernels();
  rows[b] = {};
  for (const [name, spec] of Object.entries(models)) {
    // Stock wasm has no Conv2DBackpropFilter: the CNN cannot train there at all.
    if (b === 'wasm-stock' && name === 'cnn') continue;
    const model = buildModel(spec, ds.inputShape, 10);
    const trainer = new Trainer(model, ds, BATCH);
    const params = initParams(model, 1);
    const grad = new Float32Array(model.size);
    const sampler = new BatchSampler(Int32Array.from({ length: 60000 }, (_, i) => i), BATCH, 1, 0);
    // The pure-JS cpu backend takes seconds per CNN step: few repetitions there.
    const reps = b === 'cpu' && name === 'cnn' ? 2 : 20;
    rows[b]![`${name}Ms`] = 1000 * (await timeIt(() => trainer.lossAndGrad(params, sampler.next(), grad), reps, 1));
    trainer.dispose();
  }
}
const base = rows['wasm']!['mlpMs']!;
writeResult('train-step', {
  batch: BATCH,
  models: { mlp: '784-256-10', cnn: 'conv3x3x8-pool-conv3x3x16-pool-dense10' },
  msPerStep: rows,
  ratioToWasmMlp: Object.fromEntries(Object.entries(rows).map(([b, r]) => [b, Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / base]))])),
});
