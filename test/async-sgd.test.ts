import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asyncSgd } from '../optimizers/async-sgd/index.ts';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';

function experiment(dir: string, workers: number, optimizer: string, topology: string, extra = ''): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: async-test
seed: 5
workers: ${workers}
data: { dataset: logistic, samples: 3000, testSamples: 500, features: 50, batchSize: 32, partition: iid }
model: { kind: logistic }
optimizer: ${optimizer}
topology: { kind: ${topology} }
network: { bandwidth: 1 Gb/s, latency: 100 us }
compute: { speed: 100 MFLOP/s }
train: { steps: 30, evalEvery: 15 }
${extra}
`,
  );
  return file;
}

/** One run in this process (no CLI start-up: the runs dominate these tests' cost). */
async function run(workers: number, optimizer: string, topology: string, transport = 'inproc') {
  const dir = tmp();
  const out = join(dir, 'run');
  await runExperiment(loadConfig(experiment(dir, workers, optimizer, topology, `transport: { kind: ${transport} }`)), { outDir: out });
  const train = metrics(out).filter((l) => l['kind'] === 'train');
  return {
    dir: out,
    losses: train.map((l) => l['loss'] as number),
    staleness: train.map((l) => l['stalenessByWorker'] as number[]),
    summary: json<{ finalLoss: number; staleness: { count: number; mean: number; max: number; histogram: number[] } }>(join(out, 'summary.json')),
  };
}

describe('async-sgd', () => {
  it('with one worker it is sequential SGD: the same losses as allreduce-sgd on one worker, bit for bit', async () => {
    const a = await run(1, '{ kind: async-sgd, lr: 0.5, momentum: 0.9 }', 'star');
    const s = await run(1, '{ kind: allreduce-sgd, lr: 0.5, momentum: 0.9 }', 'ring');
    expect(a.losses).toEqual(s.losses);
    expect(a.summary.finalLoss).toBe(s.summary.finalLoss);
    expect(a.summary.staleness.histogram).toEqual([30]);
  });

  let equalSpeeds: Awaited<ReturnType<typeof run>> | null = null;

  it('with equal speeds and no delays every gradient after the first round is exactly n - 1 stale', async () => {
    const r = (equalSpeeds = await run(4, '{ kind: async-sgd, lr: 0.5 }', 'star'));
    // First round: all push at the same virtual time, applied in rank order.
    expect(r.staleness[0]).toEqual([0, 1, 2, 3]);
    for (const s of r.staleness.slice(1)) expect(s).toEqual([3, 3, 3, 3]);
    expect(r.summary.staleness).toEqual({ count: 120, mean: (6 + 3 * 116) / 120, max: 3, histogram: [1, 1, 1, 117] });
  });

  it('staleness: scale-lr divides each step by 1 + staleness: same timing and staleness, a different path', async () => {
    const plain = equalSpeeds ?? (await run(4, '{ kind: async-sgd, lr: 0.5 }', 'star'));
    const scaled = await run(4, '{ kind: async-sgd, lr: 0.5, staleness: scale-lr }', 'star');
    expect(scaled.staleness).toEqual(plain.staleness);
    expect(scaled.losses[0]).toBe(plain.losses[0]); // step 1's losses are computed before any update
    expect(scaled.losses.slice(1)).not.toEqual(plain.losses.slice(1));
  });

  it('the order of applied updates (hence every metric) is identical over ws (4 workers in 3 processes) and in process, with replies sharing the egress max-min; fifo gives the old times', async () => {
    // A slow port (a reply of 51 weights is ~0.16 ms at 10 Mb/s) and random delays, so pushes
    // interleave and replies overlap part of the way.
    const dir = tmp();
    const file = experiment(dir, 4, '{ kind: async-sgd, lr: 0.5 }', 'star', 'stragglers: { delay: { kind: shifted-exponential, shift: 0 s, mean: 0.2 ms } }');
    const go = async (name: string, ...sets: string[]) => {
      const out = join(dir, name);
      await runExperiment(loadConfig(file, { sets: ['network.bandwidth=10 Mb/s', 'train.steps=12', 'train.evalEvery=12', ...sets] }), { outDir: out });
      return out;
    };
    const inproc = await go('inproc', 'transport.kind=inproc');
    const ws = await go('ws', 'transport.kind=ws', 'transport.processes=3');
    const fifo = await go('fifo', 'transport.kind=inproc', 'network.sharing=fifo');
    expect(deterministicMetrics(ws)).toEqual(deterministicMetrics(inproc));
    const times = (d: string) => metrics(d).filter((l) => l['kind'] === 'train').map((l) => l['simTimeSec']);
    // fifo gives main's numbers before the replies shared the egress (recorded at 00e922a).
    expect(times(fifo)).toEqual([
      0.002059782985903487, 0.0035414181295429586, 0.004933892944938345, 0.006425826968296942, 0.007850659269016569, 0.00918732815478627,
      0.010518528154786268, 0.011905092080114152, 0.013265034236991276, 0.014720229688259725, 0.016051429688259723, 0.017726109473754626,
    ]);
    expect(times(fifo)).not.toEqual(times(inproc));
  });

  it('needs a star (the server applies the gradients): a located error otherwise', async () => {
    const fail = (path: string, message: string): never => {
      throw new Error(`${path}: ${message}`);
    };
    const cfg = { kind: 'async-sgd', staleness: 'ignore', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, schedule: { kind: 'constant' } };
    expect(() => asyncSgd.rules!(cfg as never, { workers: 4, topology: 'ring', steps: 10, fail })).toThrow('topology.kind: expected star for async-sgd (the server applies the gradients), found ring');
  });
});
