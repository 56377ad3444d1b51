// Training-step time (forward + backward + gradient read-back) per available backend for the
// Fashion-MNIST MLP and CNN and the Moby-Dick character LSTM (config defaults: context 32,
// embedding 16, hidden 128), with the wasm MLP step as the in-run baseline.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { patchWasmKernels } from '../src/train/backend.ts';
import { BatchSampler } from '../src/train/data/batch-sampler.ts';
import type { Dataset } from '../src/train/data/dataset.ts';
import { loadFashionMnist } from '../src/train/data/fashion-mnist.ts';
import { loadMobyDick } from '../src/train/data/text.ts';
import { buildModel, initParams, type ModelSpec } from '../src/train/models.ts';
import { Trainer } from '../src/train/trainer.ts';
import { timeIt, writeResult } from './bench-io.ts';

const BATCH = Number(process.env['BENCH_BATCH'] ?? 64);
const fmnist = loadFashionMnist();
const text = loadMobyDick({ context: 32, samples: 60000, testSamples: 1000, lowercase: false, minCharCount: 50 }, 1);
// 'wasm-stock' first: wasm before dtemu registers its kernels (patching cannot be undone).
const backends = ['wasm-stock', 'wasm', 'cpu'];
try {
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
  await import('@tensorflow/tfjs-node' as string);
  backends.unshift('tensorflow');
} catch {
  /* optional accelerator absent */
}
const models: Record<string, [ModelSpec, Dataset]> = {
  mlp: [{ kind: 'mlp', hidden: [256] }, fmnist],
  cnn: [{ kind: 'cnn', channels: [8, 16], kernel: 3 }, fmnist],
  charLstm: [{ kind: 'char-lstm', embed: 16, hidden: 128 }, text],
};
const rows: Record<string, Record<string, number>> = {};
for (const b of backends) {
  const engine = b === 'wasm-stock' ? 'wasm' : b;
  await tf.setBackend(engine);
  await tf.ready();
  if (tf.getBackend() !== engine) continue;
  if (b === 'wasm') patchWasmKernels();
  rows[b] = {};
  for (const [name, [spec, ds]] of Object.entries(models)) {
    // Stock wasm has no Conv2DBackpropFilter: the CNN cannot train there at all.
    if (b === 'wasm-stock' && name === 'cnn') continue;
    const model = buildModel(spec, ds.inputShape, ds.classes);
    const trainer = new Trainer(model, ds, BATCH);
    const params = initParams(model, 1);
    const grad = new Float32Array(model.size);
    const sampler = new BatchSampler(Int32Array.from({ length: 60000 }, (_, i) => i), BATCH, 1, 0);
    // The pure-JS cpu backend takes seconds per CNN or LSTM step: few repetitions there.
    const reps = b === 'cpu' && name !== 'mlp' ? 2 : 20;
    rows[b]![`${name}Ms`] = 1000 * (await timeIt(() => trainer.lossAndGrad(params, sampler.next(), grad), reps, 1));
    trainer.dispose();
  }
}
const base = rows['wasm']!['mlpMs']!;
writeResult('train-step', {
  batch: BATCH,
  models: { mlp: '784-256-10', cnn: 'conv3x3x8-pool-conv3x3x16-pool-dense10', charLstm: `context32-embed16-lstm128-dense${text.classes}` },
  msPerStep: rows,
  ratioToWasmMlp: Object.fromEntries(Object.entries(rows).map(([b, r]) => [b, Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / base]))])),
});
