import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupWorkers } from '../optimizers/backup-workers/index.ts';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';

/** A short backup-workers experiment (6 workers, star) with optimizer keys and extra lines. */
function experiment(dir: string, optimizer: string, extra = ''): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: backup-test
seed: 3
workers: 4
data: { dataset: logistic, samples: 3000, testSamples: 500, features: 50, batchSize: 32, partition: iid }
model: { kind: logistic }
optimizer: ${optimizer}
topology: { kind: star }
network: { bandwidth: 1 Gb/s, latency: 100 us }
compute: { speed: 100 MFLOP/s }
train: { steps: 30, evalEvery: 15 }
${extra}
`,
  );
  return file;
}

/** One run in this process (no CLI start-up: the runs dominate these tests' cost). */
async function run(optimizer: string, extra = '', transport = 'inproc') {
  const dir = tmp();
  const out = join(dir, 'run');
  const lc = loadConfig(experiment(dir, optimizer, `${extra}\ntransport: { kind: ${transport} }`));
  await runExperiment(lc, { outDir: out });
  const train = metrics(out).filter((l) => l['kind'] === 'train');
  return {
    dir: out,
    losses: train.map((l) => l['loss'] as number),
    times: train.map((l) => l['simTimeSec'] as number),
    summary: json<{ finalLoss: number; simTimeSec: number; totalBits: number }>(join(out, 'summary.json')),
  };
}

const slow = (factor: number) => `stragglers: { slow: [{ worker: 3, factor: ${factor} }] }`;

describe('backup-workers', () => {
  it('with b = 0 it follows allreduce-sgd through the master step by step', async () => {
    const b0 = await run('{ kind: backup-workers, backup: 0, lr: 0.5 }');
    const ar = await run('{ kind: allreduce-sgd, lr: 0.5 }');
    // The master averages in float64 and applies SGD once; the parameter server sums in float32
    // and each worker applies SGD: the same to float32 rounding.
    b0.losses.forEach((l, i) => expect(Math.abs(l - ar.losses[i]!)).toBeLessThan(1e-5 * Math.max(1, l)));
    expect(b0.summary.totalBits).toBe(ar.summary.totalBits);
  });

  it('with b = 1 and one persistently slow worker the step time does not depend on it at all', async () => {
    const a = await run('{ kind: backup-workers, backup: 1, lr: 0.5 }', slow(20));
    const b = await run('{ kind: backup-workers, backup: 1, lr: 0.5 }', slow(200));
    expect(b.times).toEqual(a.times);
    expect(b.losses).toEqual(a.losses);
  });

  const delays = 'stragglers: { delay: { kind: shifted-exponential, shift: 0 s, mean: 20 ms } }';
  const dynamicOpt = '{ kind: backup-workers, backup: dynamic, lr: 0.5, window: 5 }';
  let dynamicRun: Awaited<ReturnType<typeof run>> | null = null;

  it('dynamic b under random delays: faster than b = 0 to a loss within 0.02', async () => {
    const dyn = (dynamicRun = await run(dynamicOpt, delays));
    const all = await run('{ kind: backup-workers, backup: 0, lr: 0.5 }', delays);
    expect(dyn.summary.simTimeSec).toBeLessThan(0.8 * all.summary.simTimeSec);
    // Fewer gradients on some steps: a slightly noisier path (measured |difference| 0.012 with 6 workers).
    expect(Math.abs(dyn.summary.finalLoss - all.summary.finalLoss)).toBeLessThan(0.02);
  });

  it('identical metrics over ws and in process (dynamic b: the decisions depend on virtual time only)', async () => {
    const inproc = dynamicRun ?? await run(dynamicOpt, delays);
    const ws = await run(dynamicOpt, delays, 'ws');
    expect(deterministicMetrics(ws.dir)).toEqual(deterministicMetrics(inproc.dir));
  });

  it('b >= n is refused: exit 2, one located line; so is a string other than dynamic', async () => {
    const dir = tmp();
    const r = await dtemuHere(['validate', experiment(dir, '{ kind: backup-workers, backup: 4 }')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/exp\.yaml:\d+.*optimizer\.backup: expected an integer 0 <= b < n = 4 \(or dynamic\), found 4/);
    const fail = (path: string, message: string): never => {
      throw new Error(`${path}: ${message}`);
    };
    const cfg = { kind: 'backup-workers', backup: 'sometimes', window: 10, lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, schedule: { kind: 'constant' } };
    expect(() => backupWorkers.rules!(cfg as never, { workers: 4, topology: 'star', steps: 10, fail })).toThrow(
      'optimizer.backup: expected an integer 0 <= b < 4 or dynamic, found sometimes',
    );
    expect(() => backupWorkers.rules!({ ...cfg, backup: 1 } as never, { workers: 4, topology: 'ring', steps: 10, fail })).toThrow(/topology.kind: expected star/);
  });
});
