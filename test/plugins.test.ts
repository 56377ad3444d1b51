import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { UserError } from '../src/util/user-error.ts';
import { encodeNpy } from '../src/train/data/npy.ts';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, json, metrics, ROOT, tmp } from './helpers/cli.ts';

/**
 * Plugins from YAML (experiments/plugins/): an algorithm, a compressor, a LayersModel and CSV data run
 * like built-ins (identically in process and over ws), their bits come from their bytes, and a
 * bad plugin is one located line with exit 2 (or 1 when it fails during the run, metrics so far
 * kept). The algorithm plugin is the proof from outside that an algorithm needs no edit to dtemu.
 */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';
// Module paths are relative to the experiment file (test/fixtures/).
const LOCAL_SGD = 'optimizer={module: ../../experiments/plugins/local-sgd.ts, lr: 0.05, localSteps: 4}';
const INT8 = 'optimizer={kind: compressed-sgd, lr: 0.05, compressor: {module: ../../experiments/plugins/int8-compressor.ts}}';
const SHORT = ['train.steps=12', 'train.evalEvery=6'];

async function run(dir: string, ...sets: string[]) {
  const args = ['run', FIXTURE, '--out', dir, '--quiet', ...[...SHORT, ...sets].flatMap((s) => ['--set', s])];
  const r = await dtemuHere(args);
  return { ...r, dir };
}

describe('plugins from YAML', () => {
  const base = tmp();

  it('an algorithm module trains end to end, identically in process and over ws', async () => {
    const a = await run(join(base, 'alg-in'), LOCAL_SGD, 'transport.kind=inproc');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const b = await run(join(base, 'alg-ws'), LOCAL_SGD, 'transport.processes=2');
    expect(b.stderr).toBe('');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
    const train = metrics(a.dir).filter((l) => l['kind'] === 'train');
    // Models are averaged every 4 steps (and at the end): bits grow only then, by a ring all-reduce
    // of the fp32 model (d = 676 values): each worker sends 2(n-1)/n of it.
    const sent = train.map((l, i) => (l['bits'] as number) - (i > 0 ? (train[i - 1]!['bits'] as number) : 0));
    expect(sent.map((s) => s > 0)).toEqual(train.map((l) => (l['step'] as number) % 4 === 0 || l['step'] === 12));
    expect((train[0]!['loss'] as number) > (train[11]!['loss'] as number)).toBe(true);
  });

  it("a compressor module trains end to end, identically in process and over ws; its bits are its encoded bytes", async () => {
    const a = await run(join(base, 'cmp-in'), INT8, 'transport.kind=inproc');
    expect(a.stderr).toBe('');
    const b = await run(join(base, 'cmp-ws'), INT8, 'transport.processes=2');
    expect(b.stderr).toBe('');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
    // int8 payload: 4-byte scale + one byte per value (d = 676); all-gathered: each of the 4
    // workers sends 3 payloads per step.
    const s = json<{ totalBits: number; steps: number }>(join(a.dir, 'summary.json'));
    expect(s.totalBits).toBe(12 * 4 * 3 * (4 + 676) * 8);
  });

  it('a tfjs LayersModel module trains end to end through tfjs gradients, identically in process and over ws', async () => {
    const model = 'model={module: ../../experiments/plugins/layers-model.ts, hidden: 32}';
    const a = await run(join(base, 'lm-in'), model, 'transport.kind=inproc');
    expect(a.stderr).toBe('');
    const b = await run(join(base, 'lm-ws'), model, 'transport.processes=2');
    expect(b.stderr).toBe('');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
    // Flatten + Dense(32, relu) + Dense(4) on 16 features: the same 676 parameters as the
    // built-in MLP [32], flattened into the vector the ring all-reduces (each worker sends
    // 2(n-1)/n of it per step), and the loss goes down.
    const train = metrics(a.dir).filter((l) => l['kind'] === 'train');
    expect(train[11]!['bits']).toBe(12 * 4 * 2 * 3 * (676 / 4) * 4 * 8);
    expect((train[11]!['loss'] as number) < (train[0]!['loss'] as number)).toBe(true);
  });

  it('a CSV data set trains end to end, identically in process and over ws', async () => {
    const csv = 'data={format: csv, train: ../../experiments/plugins/data/three-clusters-train.csv, test: ../../experiments/plugins/data/three-clusters-test.csv, batchSize: 16}';
    const a = await run(join(base, 'csv-in'), csv, 'model={kind: logistic}', 'transport.kind=inproc');
    expect(a.stderr).toBe('');
    const b = await run(join(base, 'csv-ws'), csv, 'model={kind: logistic}', 'transport.processes=2');
    expect(b.stderr).toBe('');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
    // Three separable clusters (8 features, 600 test rows): a logistic model learns them.
    const evals = metrics(a.dir).filter((l) => l['kind'] === 'eval');
    expect(evals[evals.length - 1]!['evalAccuracy']).toBeGreaterThan(0.9);
  });

  // npy, IDX and data-module data, and a parameter-list model: a few steps each (the examples
  // in experiments/plugins/ train the same modules to their targets).
  const PLUGINS = '../../experiments/plugins';
  const npy = (s: string) => `{x: ${PLUGINS}/data/three-clusters-${s}-x.npy, y: ${PLUGINS}/data/three-clusters-${s}-y.npy}`;
  const idx = (s: string) => `{x: ${PLUGINS}/data/quadrants-${s}-images-idx3-ubyte.gz, y: ${PLUGINS}/data/quadrants-${s}-labels-idx1-ubyte.gz}`;
  // The in-process half runs here through the API (no process to start, tfjs already loaded),
  // the ws half as the CLI with two worker processes: the ring crosses a process boundary.
  async function inBoth(name: string, ...sets: string[]) {
    const a = join(base, `${name}-in`);
    await runExperiment(loadConfig(join(ROOT, FIXTURE), { sets: [...SHORT, ...sets, 'transport.kind=inproc'] }), { outDir: a });
    const b = await run(join(base, `${name}-ws`), ...sets, 'transport.processes=2');
    expect(b.stderr).toBe('');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a));
    return { train: metrics(a).filter((l) => l['kind'] === 'train'), evals: metrics(a).filter((l) => l['kind'] === 'eval') };
  }

  it('a parameter-list model module on npy data trains end to end, identically in process and over ws', async () => {
    const { train, evals } = await inBoth('npy-pm', `data={format: npy, train: ${npy('train')}, test: ${npy('test')}, batchSize: 16}`, `model={module: ${PLUGINS}/param-model.ts, hidden: 8}`);
    // tanh(x W1 + b1) W2 + x S + b2 on 8 features, 3 classes: 8*8 + 8 + 8*3 + 8*3 + 3 = 123
    // parameters, ring all-reduced (each of the 4 workers sends 2(n-1)/n of the fp32 vector).
    expect(train[11]!['bits']).toBe(12 * 2 * 3 * 123 * 4 * 8);
    expect(evals[evals.length - 1]!['evalAccuracy']).toBeGreaterThan(0.9);
  });

  it('IDX data (gzipped MNIST format, byte images) trains end to end, identically in process and over ws', async () => {
    const { train, evals } = await inBoth('idx', `data={format: idx, train: ${idx('train')}, test: ${idx('t10k')}, batchSize: 16}`, 'model={kind: logistic}');
    // 8x8 images, 4 classes: a logistic model of 64*4 + 4 = 260 parameters.
    expect(train[11]!['bits']).toBe(12 * 2 * 3 * 260 * 4 * 8);
    expect(evals[evals.length - 1]!['evalAccuracy']).toBeGreaterThan(0.9);
  });

  it('a data module trains end to end, identically in process and over ws', async () => {
    const { evals } = await inBoth('dm', `data={module: ${PLUGINS}/spirals-data.ts, samples: 1200, testSamples: 300, arms: 3, batchSize: 16}`, 'model={kind: logistic}');
    // 7 features of 3 spiral arms: a linear model gets most of them after 12 steps.
    expect(evals[evals.length - 1]!['evalAccuracy']).toBeGreaterThan(0.6);
  });

  it('a bad CSV cell is an input error naming file, line and column', async () => {
    const dir = tmp('dtemu-bad-csv-');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b,label\n1,2,0\n3,x,1\n');
    const r = await run(join(dir, 'run'), `data={format: csv, train: ${bad}, test: ${bad}, batchSize: 1}`, 'model={kind: logistic}', 'transport.kind=inproc');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dtemu: ${bad}:3: column 2: expected a number, found "x"`);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  describe('bad plugins: one line naming the module, exit 2 before anything is created', () => {
    const dir = tmp('dtemu-bad-plugins-');
    const noExport = join(dir, 'no-export.ts');
    writeFileSync(noExport, 'export const something = 1;\n');
    const shortDecode = join(dir, 'short-decode.ts');
    writeFileSync(
      shortDecode,
      `export default { name: 'short', create: () => ({ name: 'short', dense: false,
        encode: (x: Float32Array) => new Uint8Array(new Float32Array(x).buffer),
        decode: (p: Uint8Array, out: Float32Array) => { out.set(new Float32Array(p.slice().buffer).subarray(0, out.length >> 1)); },
        decodeAdd: () => {} }) };\n`,
    );
    const badWidth = join(dir, 'bad-width.ts');
    writeFileSync(
      badWidth,
      `export default { build: ({ tf, inputShape }: any) => ({ params: [{ name: 'w', shape: [inputShape[0], 3] }], forward: ([w]: any, x: any) => tf.matMul(x, w) }) };\n`,
    );
    const badLabelX = join(dir, 'bad-x.npy');
    const badLabelY = join(dir, 'bad-y.npy');
    writeFileSync(badLabelX, encodeNpy('<f4', [2, 8], new Float32Array(16)));
    writeFileSync(badLabelY, encodeNpy('<i8', [2], BigInt64Array.from([0n, -1n])));
    // In process (the CLI's exit 2 is UserError's; the table below checks the CLI's line and code).
    const refusedInProcess: [string, string, RegExp][] = [
      ['data module without the export', `data={module: ${noExport}}`, /^data\.module: .*no-export\.ts: expected a default export made with defineDataset\(\{ options, load \}\), found (no default export|one without load)$/],
      ['npy data file missing', `data={format: npy, train: {x: ./nope-x.npy, y: ./nope-y.npy}, test: ${npy('test')}}`, /: data\.train\.x: expected a npy file of inputs, found no file .*nope-x\.npy$/],
      ['npy label out of range', `data={format: npy, train: {x: ${badLabelX}, y: ${badLabelY}}, test: ${npy('test')}}`, /bad-y\.npy: label of sample 1: expected a class index \(an integer 0\.\.65535\), found -1$/],
      ['parameter-list model whose output width is wrong', `model={module: ${badWidth}}`, /^model\.module: .*bad-width\.ts: forward: expected outputs of shape \[batch, 4\] \(4 classes\), found \[2, 3\] for a batch of 2$/],
    ];
    for (const [what, set, re] of refusedInProcess) {
      it(what, async () => {
        const out = join(dir, what.replace(/ /g, '-'));
        const err = await Promise.resolve()
          .then(() => runExperiment(loadConfig(join(ROOT, FIXTURE), { sets: [...SHORT, set, 'transport.kind=inproc'] }), { outDir: out }))
          .then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).message).toMatch(re);
        expect((err as UserError).exitCode).toBe(2);
        expect(existsSync(out)).toBe(false);
      });
    }
    const bad: [string, string, RegExp][] = [
      ['missing file', 'optimizer={module: ./nope.ts}', /optimizer\.module: expected a JS\/TS module, found no file .*nope\.ts$/],
      ['module without the export', `optimizer={module: ${noExport}}`, /optimizer\.module: .*no-export\.ts: expected a default export made with defineAlgorithm\(\{ kind, options, toleratesCrash, worker \}\), found (no default export|one without kind, options, toleratesCrash, worker)$/],
      [
        'compressor whose decode length is wrong',
        `optimizer={kind: compressed-sgd, compressor: {module: ${shortDecode}}}`,
        /optimizer\.compressor\.module: .*short-decode\.ts: decode wrote 500 of 1000 values/,
      ],
    ];
    for (const [what, set, re] of bad) {
      it(what, async () => {
        const out = join(dir, what.replace(/ /g, '-'));
        const r = await run(out, set, 'transport.kind=inproc');
        expect(r.code).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(re);
        expect(existsSync(out)).toBe(false);
      });
    }

    it('an algorithm that throws during the run: exit 1, one line naming the module, metrics so far intact', async () => {
      const throws = join(dir, 'throws.ts');
      const api = join(ROOT, 'src', 'api.ts');
      writeFileSync(
        throws,
        `import { computeGradient, finishStep } from ${JSON.stringify(api)};
export default { kind: 'throws', options: {}, toleratesCrash: () => false,
  async worker(ctx: any) {
    const x = Float32Array.from(ctx.initialParams); const g = new Float32Array(x.length);
    for (let step = 1; step <= ctx.steps; step++) {
      if (step === 4) throw new Error('diverged on purpose');
      const c = computeGradient(ctx, step, x, g);
      await finishStep(ctx, step, c, 0, x);
    }
  } };\n`,
      );
      const out = join(dir, 'throws-run');
      const r = await run(out, `optimizer={module: ${throws}}`, 'transport.kind=inproc');
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/optimizer\.module .*throws\.ts failed: diverged on purpose/);
      // The steps every worker finished before the first one threw are there, in order, whole.
      const steps = metrics(out).map((l) => l['step']);
      expect(steps.length).toBeGreaterThanOrEqual(2);
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
      expect(json<{ status: string }>(join(out, 'manifest.json')).status).toBe('failed');
    });
  });
});
