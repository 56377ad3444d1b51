import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { checkTimeOnly } from '../src/runtime/time-only.ts';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { json, metrics, tmp } from './helpers/cli.ts';

/**
 * `dtemu simulate` against full emulation (in process; ws gives the same metrics, see
 * determinism.test.ts): the same simulated times, bits and timeline, step by step.
 */
const base = tmp();

async function both(file: string, sets: string[], name: string) {
  const out = async (timeOnly: boolean) => {
    const lc = loadConfig(file, { sets: ['transport.kind=inproc', ...sets] });
    const dir = join(base, `${name}-${timeOnly ? 'simulate' : 'run'}`);
    const { summary } = await runExperiment(lc, { outDir: dir, timeOnly });
    const lines = metrics(dir).map((l) => ({ kind: l['kind'], step: l['step'], simTimeSec: l['simTimeSec'], bits: l['bits'] }));
    return { summary, lines, timeline: readFileSync(join(dir, 'timeline.jsonl'), 'utf8'), dir };
  };
  return { run: await out(false), sim: await out(true) };
}

describe('time-only mode equals full emulation', () => {
  const cases: [string, string, string[]][] = [
    ['quickstart', 'experiments/quickstart.yaml', ['train.steps=8', 'train.evalEvery=4']],
    // Ring all-reduce SGD with a slow worker and random delays: the time-only shortcut's path.
    ['straggler ring', 'test/fixtures/tiny-blobs.yaml', ['train.steps=8', 'train.evalEvery=4']],
    ['straggler star', 'experiments/stragglers-star.yaml', ['train.steps=8', 'train.evalEvery=4']],
    ['gradient coding', 'experiments/gradient-coding/coded-vs-baselines.yaml', ['train.steps=8', 'train.evalEvery=4', 'optimizer.stragglersTolerated=1']],
    ['diloco', 'experiments/diloco/h-sweep.yaml', ['train.steps=8', 'train.evalEvery=4', 'optimizer.localSteps=3']],
  ];
  for (const [name, file, sets] of cases) {
    for (const n of [4, 8]) {
      it(`${name}, ${n} workers: identical simTimeSec, bits and timeline`, async () => {
        const { run, sim } = await both(file, [...sets, `workers=${n}`], `${name.replace(/ /g, '-')}-${n}`);
        expect(sim.summary.simTimeSec).toBe(run.summary.simTimeSec);
        expect(sim.summary.totalBits).toBe(run.summary.totalBits);
        expect(sim.summary.totalBits).toBeGreaterThan(0);
        expect(sim.lines).toEqual(run.lines);
        expect(sim.timeline).toBe(run.timeline);
        expect(sim.timeline.split('\n').length).toBeGreaterThan(8 * n);
        // No training: losses are null, and the run says so.
        expect(json<{ finalLoss: number | null }>(join(sim.dir, 'summary.json')).finalLoss).toBeNull();
        expect(sim.summary.divergedAtStep).toBeNull();
        expect(run.summary.finalLoss).not.toBeNull();
        expect(json<{ backend: string }>(join(sim.dir, 'manifest.json')).backend).toBe('none (time-only)');
      });
    }
  }

  it('more workers than a full emulation takes: 2000, with limits.maxWorkers raised', async () => {
    const sim = join(base, 'many');
    const sets = ['workers=2000', 'limits.maxWorkers=2000', 'data.batchSize=16', 'train.steps=2'];
    const { summary } = await runExperiment(loadConfig('experiments/quickstart.yaml', { sets, timeOnly: true }), { outDir: sim, timeOnly: true });
    expect(summary.steps).toBe(2);
    expect(metrics(sim).filter((l) => l['kind'] === 'train')).toHaveLength(2);
    expect(readFileSync(join(sim, 'timeline.jsonl'), 'utf8').split('\n').filter((l) => l).length).toBe(2 * 2000);
  });

  it('refuses what it cannot reproduce: measured compute, data-dependent payload sizes', () => {
    expect(() => checkTimeOnly(loadConfig('experiments/quickstart.yaml', { sets: ['compute.mode=measured'] }))).toThrow(/compute.mode: dtemu simulate needs modelled compute times/);
    expect(() =>
      checkTimeOnly(loadConfig('experiments/quickstart.yaml', { sets: ['optimizer.kind=compressed-sgd', 'optimizer.compressor={kind: topk, ratio: 0.1}'] })),
    ).toThrow(/optimizer.compressor.kind: .*found "topk"/);
    expect(() => checkTimeOnly(loadConfig('experiments/quickstart.yaml', { sets: ['optimizer.kind=compressed-sgd', 'optimizer.compressor={kind: qsgd, levels: 4}'] }))).not.toThrow();
  });

  it('the CLI: dtemu simulate writes the run directory; bad input exits 2 with one line', async () => {
    const dir = join(base, 'cli');
    // simulate trains nothing and starts no worker process: in this process.
    const r = await dtemuHere(['simulate', 'experiments/quickstart.yaml', '--out', dir, '--set', 'train.steps=3', '--set', 'workers=2'], true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/quickstart: 3 steps simulated \(time only, no training\), simulated [0-9.]+ s/);
    expect(json<{ steps: number }>(join(dir, 'summary.json')).steps).toBe(3);
    const bad = await dtemuHere(['simulate', 'experiments/quickstart.yaml', '--out', join(base, 'bad'), '--set', 'compute.mode=measured'], true);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
