import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.ts';
import { patchWasmKernels } from '../src/train/backend.ts';
import { buildVocabulary, encodeText, loadMobyDick, mobyDickText, readTextFile, TRAIN_FRACTION, type TextSpec } from '../src/train/data/text.ts';
import { buildModel, charLstmFlops, charLstmParamCount, initParams, type ModelDef } from '../src/train/models.ts';
import { Trainer } from '../src/train/trainer.ts';
import { UserError } from '../src/util/user-error.ts';
import { dtemu, json, metrics, tmp } from './helpers/cli.ts';

const SPEC: TextSpec = { context: 12, samples: 3000, testSamples: 400, lowercase: false, minCharCount: 50 };

/** Entropy in nats of the empirical distribution of `ids`. */
function entropy(ids: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) counts.set(ids[i]!, (counts.get(ids[i]!) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / ids.length) * Math.log(n / ids.length);
  return h;
}

describe('moby-dick data set', () => {
  const text = mobyDickText();
  const chars = Array.from(text);
  const ds = loadMobyDick(SPEC, 7);

  it('has a deterministic vocabulary: unknown first, then the frequent characters by code point', () => {
    expect(text.startsWith('CHAPTER 1. Loomings.\n\nCall me Ishmael.')).toBe(true);
    const counts = new Map<string, number>();
    for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= 50).map(([c]) => c);
    kept.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    expect(ds.vocab.chars).toEqual(['\uFFFD', ...kept]);
    expect(ds.classes).toBe(kept.length + 1);
    expect(buildVocabulary(text, 50)).toEqual(ds.vocab);
    // Rare characters exist in the book ('X', '&', digits like '9') and all map to id 0.
    expect(ds.vocab.ids.has('&'.codePointAt(0)!)).toBe(false);
    expect(encodeText('a&X', ds.vocab)[1]).toBe(0);
    expect(loadMobyDick({ ...SPEC, lowercase: true }, 7).vocab.chars.some((c) => c >= 'A' && c <= 'Z')).toBe(false);
  });

  it('windows and labels are the text itself', () => {
    const T = SPEC.context;
    const decode = (ids: ArrayLike<number>) => Array.from(ids, (i) => ds.vocab.chars[i]!).join('');
    const truth = (s: number, n: number) => chars.slice(s, s + n).map((c) => (ds.vocab.ids.has(c.codePointAt(0)!) ? c : '\uFFFD')).join('');
    expect(ds.tokens.length).toBe(chars.length);
    expect(decode(ds.tokens.subarray(0, 20))).toBe('CHAPTER 1. Loomings.');
    for (const [split, starts] of [
      [ds.train, ds.trainStarts],
      [ds.test, ds.testStarts],
    ] as const) {
      for (const i of [0, 1, Math.floor(split.n / 2), split.n - 1]) {
        const s = starts[i]!;
        expect(decode(split.x.subarray(i * T, (i + 1) * T))).toBe(truth(s, T));
        expect(ds.vocab.chars[split.y[i]!]).toBe(truth(s + T, 1));
      }
    }
    expect(ds.inputShape).toEqual([T]);
    expect(ds.inputScale).toBe(1);
    expect(ds.train.x).toBeInstanceOf(Uint8Array);
  });

  it('train windows lie before the split, test windows after; same seed, same samples', () => {
    const T = SPEC.context;
    expect(ds.split).toBe(Math.floor(chars.length * TRAIN_FRACTION));
    expect(ds.train.n).toBe(SPEC.samples);
    expect(ds.test.n).toBe(SPEC.testSamples);
    for (const s of ds.trainStarts) expect(s + T).toBeLessThan(ds.split);
    for (const s of ds.testStarts) {
      expect(s).toBeGreaterThanOrEqual(ds.split);
      expect(s + T).toBeLessThan(chars.length);
    }
    // Strictly increasing: no duplicates, spread over the whole train part.
    for (let i = 1; i < ds.train.n; i++) expect(ds.trainStarts[i]!).toBeGreaterThan(ds.trainStarts[i - 1]!);
    expect(ds.trainStarts[ds.train.n - 1]!).toBeGreaterThan(0.85 * ds.split);
    const again = loadMobyDick(SPEC, 7);
    expect(again.train.x).toEqual(ds.train.x);
    expect(again.train.y).toEqual(ds.train.y);
    const other = loadMobyDick(SPEC, 8);
    expect(other.train.y).not.toEqual(ds.train.y);
    expect(other.test.x).toEqual(ds.test.x); // test windows do not depend on the seed
    // More samples than windows: all of them.
    const all = loadMobyDick({ ...SPEC, testSamples: 10_000_000 }, 7);
    expect(all.test.n).toBe(chars.length - ds.split - T);
  });

  it('a missing text file is a UserError naming the file', () => {
    expect(() => readTextFile('/nonexistent/moby/data.txt')).toThrow(UserError);
    expect(() => readTextFile('/nonexistent/moby/data.txt')).toThrow(/\/nonexistent\/moby\/data.txt: cannot read .*ENOENT/);
  });

  it('config: char-lstm and moby-dick go together; defaults are filled', () => {
    const lc = loadConfigText('x.yaml', 'data: { dataset: moby-dick }\nmodel: { kind: char-lstm }\noptimizer: { kind: allreduce-sgd }\n');
    expect(lc.config.data).toMatchObject({ context: 32, lowercase: false, minCharCount: 50 });
    expect(lc.config.model).toMatchObject({ embed: 16, lstmHidden: 128 });
    expect(() => loadConfigText('x.yaml', 'data: { dataset: blobs }\nmodel: { kind: char-lstm }\noptimizer: { kind: allreduce-sgd }\n')).toThrow(/model.kind: expected a text data set/);
    expect(() => loadConfigText('x.yaml', 'data: { dataset: moby-dick }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n')).toThrow(/model.kind: expected char-lstm/);
  });
});

describe('char-lstm model', () => {
  const ds = loadMobyDick({ ...SPEC, context: 5, samples: 200, testSamples: 50 }, 3);
  const [E, H] = [4, 6];
  const model = buildModel({ kind: 'char-lstm', embed: E, hidden: H }, ds.inputShape, ds.classes);
  const V = ds.classes;
  const params = initParams(model, 11);
  const batch = Int32Array.from({ length: 8 }, (_, i) => 3 + 17 * i);

  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    patchWasmKernels();
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  async function lossAndGrad(backend: string, m: ModelDef, p: Float32Array): Promise<{ loss: number; grad: Float32Array }> {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const tr = new Trainer(m, ds, batch.length);
    const grad = new Float32Array(m.size);
    const loss = tr.lossAndGrad(p, batch, grad);
    tr.dispose();
    return { loss, grad };
  }

  it('has the closed-form parameter count, FLOPs and initialisation', () => {
    expect(model.size).toBe(V * E + (E + H) * 4 * H + 4 * H + H * V + V);
    expect(charLstmParamCount(V, E, H)).toBe(model.size);
    expect(model.params.map((p) => p.shape)).toEqual([[V, E], [E + H, 4 * H], [4 * H], [H, V], [V]]);
    expect(model.flopsPerSample).toBe(charLstmFlops(5, V, E, H));
    expect(model.flopsPerSample).toBe(5 * (8 * (E + H) * H + 13 * H) + 2 * H * V + V);
    const bias = model.params[2]!;
    expect(Array.from(params.subarray(bias.offset, bias.offset + 4 * H))).toEqual([...Array(H).fill(0), ...Array(H).fill(1), ...Array(2 * H).fill(0)]);
    expect(initParams(model, 11)).toEqual(params);
    const emb = params.subarray(0, V * E);
    const variance = emb.reduce((a, v) => a + v * v, 0) / emb.length;
    expect(variance).toBeGreaterThan(0.7);
    expect(variance).toBeLessThan(1.3);
  });

  it('starts at about ln V nats (the loss is natural-log cross-entropy)', async () => {
    const { loss } = await lossAndGrad('wasm', model, params);
    expect(Math.abs(loss - Math.log(V))).toBeLessThan(0.1);
  });

  it('gradient matches central finite differences on cpu', async () => {
    const { grad } = await lossAndGrad('cpu', model, params);
    // In every tensor, the coordinate with the largest gradient and one more.
    const coords: number[] = [];
    for (const p of model.params) {
      let best = p.offset;
      for (let j = p.offset; j < p.offset + p.size; j++) if (Math.abs(grad[j]!) > Math.abs(grad[best]!)) best = j;
      coords.push(best, p.offset + ((best - p.offset + Math.floor(p.size / 3)) % p.size));
    }
    // The recurrent weights W_h (kernel rows E..E+H-1) have a hand-written gradient: check the
    // largest of them too, whichever rows the picks above fell in.
    const kernel = model.params.find((p) => p.name === 'lstm/kernel')!;
    const cols = kernel.shape[1]!;
    let bestWh = kernel.offset + E * cols;
    for (let j = bestWh; j < kernel.offset + kernel.size; j++) if (Math.abs(grad[j]!) > Math.abs(grad[bestWh]!)) bestWh = j;
    coords.push(bestWh);
    expect(Math.abs(grad[bestWh]!)).toBeGreaterThan(1e-4);
    const eps = 1e-2;
    for (const j of coords) {
      const plus = Float32Array.from(params);
      const minus = Float32Array.from(params);
      plus[j]! += eps;
      minus[j]! -= eps;
      const fd = ((await lossAndGrad('cpu', model, plus)).loss - (await lossAndGrad('cpu', model, minus)).loss) / (2 * eps);
      expect(Math.abs(fd - grad[j]!), `coordinate ${j}: fd ${fd} vs ${grad[j]}`).toBeLessThan(2e-4 + 1e-2 * Math.abs(grad[j]!));
    }
    expect(Math.max(...coords.map((j) => Math.abs(grad[j]!)))).toBeGreaterThan(1e-2);
  });

  it('wasm gives the cpu loss and gradient', async () => {
    const cpu = await lossAndGrad('cpu', model, params);
    const wasm = await lossAndGrad('wasm', model, params);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
    for (let j = 0; j < model.size; j++) expect(Math.abs(wasm.grad[j]! - cpu.grad[j]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(cpu.grad[j]!));
  });
});

describe('char-lstm end to end', () => {
  it('DiLoCo on 2 inproc workers gets eval loss well below the unigram entropy', () => {
    const dir = tmp();
    const file = join(dir, 'char.yaml');
    writeFileSync(
      file,
      `name: char-e2e
seed: 1
workers: 2
backend: wasm
transport: { kind: inproc }
data: { dataset: moby-dick, context: 16, samples: 20000, testSamples: 500, batchSize: 32 }
model: { kind: char-lstm, embed: 8, lstmHidden: 32 }
optimizer: { kind: diloco, innerOptimizer: adamw, lr: 0.01, localSteps: 10, outerLr: 0.7, outerMomentum: 0.9 }
topology: { kind: ring }
network: { bandwidth: 1 Gb/s, latency: 1 ms }
train: { steps: 150, evalEvery: 50 }
`,
    );
    const out = join(dir, 'run');
    const r = dtemu(['run', file, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const evals = metrics(out).filter((m) => m['kind'] === 'eval');
    expect(evals.map((m) => m['step'])).toEqual([50, 100, 150]);
    const ds = loadMobyDick({ context: 16, samples: 20000, testSamples: 500, lowercase: false, minCharCount: 50 }, 1);
    const unigram = entropy(ds.tokens); // ~3.10 nats (4.47 bits per character)
    const final = evals[2]!['evalLoss'] as number;
    expect(final).toBeLessThan(unigram - 0.3);
    expect(final).toBeLessThan(evals[0]!['evalLoss'] as number);
    expect(json(join(out, 'summary.json'))['backend']).toBe('wasm');
  });
});
