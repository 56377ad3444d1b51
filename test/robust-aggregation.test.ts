// Issue #16 items 4 and 5 wired into runs: the `aggregator` key (all-gather on worker topologies,
// the server on a star, the master of backup-workers) and the `byzantine` fault kind.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { RobustExchange, serveRobustAggregates } from '../optimizers/common/robust-exchange.ts';
import { byzantineRoleOf } from '../src/runtime/byzantine-role.ts';
import { FaultSchedule } from '../src/sim/faults.ts';
import { BatchSampler } from '../src/train/data/batch-sampler.ts';
import type { GradientOracle } from '../optimizers/worker-context.ts';
import { cliInProcess } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';
import { inprocNet } from './helpers/inproc-net.ts';

/** 10 workers of softmax regression on Gaussian blobs (clean accuracy ~92%). */
function experiment(dir: string, extra: string): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: robust
seed: 1
workers: 10
transport: { kind: inproc }
data: { dataset: blobs, samples: 4000, testSamples: 1000, features: 20, classes: 4, noise: 3, batchSize: 32 }
model: { kind: logistic }
compute: { speed: 100 MFLOP/s }
train: { steps: 60, evalEvery: 60 }
${extra}
`,
  );
  return file;
}

async function run(extra: string): Promise<{ dir: string; accuracy: number; bits: number; aggregator?: string }> {
  const dir = tmp();
  const out = join(dir, 'run');
  await runExperiment(loadConfig(experiment(dir, extra)), { outDir: out });
  const s = json<{ finalAccuracy: number; totalBits: number; aggregator?: string }>(join(out, 'summary.json'));
  return { dir: out, accuracy: 100 * s.finalAccuracy, bits: s.totalBits, ...(s.aggregator !== undefined ? { aggregator: s.aggregator } : {}) };
}

const signFlip3 = 'faults: [{ kind: byzantine, workers: [0, 1, 2], attack: sign-flip, scale: 4 }]';

describe('robust aggregation end to end (10 workers, 3 sign-flip attackers)', () => {
  it('Krum and the coordinate median stay within 3 points of the clean run; the mean does not', async () => {
    const clean = await run('optimizer: { kind: allreduce-sgd, lr: 0.1 }');
    const mean = await run(`optimizer: { kind: allreduce-sgd, lr: 0.1 }\n${signFlip3}`);
    const median = await run(`optimizer: { kind: allreduce-sgd, lr: 0.1, aggregator: coordinate-median }\n${signFlip3}`);
    const krum = await run(`optimizer: { kind: allreduce-sgd, lr: 0.1, aggregator: { kind: krum, f: 3 } }\n${signFlip3}`);
    // Measured: clean 92.1, mean 0.4, median 92.3, Krum 92.6.
    expect(clean.accuracy).toBeGreaterThan(85);
    expect(median.accuracy).toBeGreaterThan(clean.accuracy - 3);
    expect(krum.accuracy).toBeGreaterThan(clean.accuracy - 3);
    expect(mean.accuracy).toBeLessThan(clean.accuracy - 30);
    // Bits from the bytes sent (d = 4 x 20 + 4 = 84 parameters): per step the ring all-reduce
    // sends every chunk once in each of its 2(n - 1) phases, 2(n - 1) d floats in all; the
    // all-gather sends n (n - 1) d.
    const d = 84;
    expect(clean.bits).toBe(60 * 2 * 9 * d * 32);
    expect(mean.bits).toBe(clean.bits);
    expect(krum.bits).toBe(60 * 10 * 9 * d * 32);
    expect(median.bits).toBe(krum.bits);
    // Time-only mode (dtemu simulate) gives the same clocks and bits: attacks change no message
    // size or compute time, and a fault-free robust run is never taken for the ring shortcut
    // of the summing all-reduce.
    const simDir = join(tmp(), 'sim');
    await runExperiment(loadConfig(experiment(tmp(), 'optimizer: { kind: allreduce-sgd, lr: 0.1, aggregator: { kind: krum, f: 3 } }')), { outDir: simDir, timeOnly: true });
    const clocks = (d: string) => metrics(d).filter((l) => l['kind'] === 'train').map((l) => [l['simTimeSec'], l['bits']]);
    expect(clocks(simDir)).toEqual(clocks(krum.dir));
    // summary.json names a robust aggregator (and nothing for the mean).
    expect([clean.aggregator, median.aggregator, krum.aggregator]).toEqual([undefined, 'coordinate-median', 'krum(f=3)']);
    // The attackers' steps are marked in the timeline and the Chrome trace.
    const timeline = readFileSync(join(krum.dir, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { worker: number; byzantine?: string });
    expect(timeline.filter((e) => e.byzantine === 'sign-flip').map((e) => e.worker).sort((a, b) => a - b)).toEqual([...Array(60).fill(0), ...Array(60).fill(1), ...Array(60).fill(2)]);
    expect(timeline.filter((e) => e.worker >= 3 && e.byzantine !== undefined)).toEqual([]);
    const trace = json<{ traceEvents: { name: string; tid: number }[] }>(join(krum.dir, 'trace.json'));
    expect(trace.traceEvents.filter((e) => e.name === 'byzantine: sign-flip').length).toBe(180);
  });
});

describe('compressed-sgd with a robust aggregator', () => {
  it('with the identity compressor (none) it trains exactly as allreduce-sgd with the same aggregator', async () => {
    const sets = ['workers=5', 'train.steps=10', 'train.evalEvery=5'];
    const dir = tmp();
    const losses = async (optimizer: string, out: string) => {
      await runExperiment(loadConfig(experiment(dir, `optimizer: ${optimizer}\nfaults: [{ kind: byzantine, workers: [3], attack: scaled, factor: -3 }]`), { sets }), { outDir: join(dir, out) });
      return metrics(join(dir, out)).map((l) => [l['step'], l['loss'] ?? l['evalLoss'], l['evalAccuracy']]);
    };
    const a = await losses('{ kind: allreduce-sgd, lr: 0.1, aggregator: coordinate-median }', 'a');
    const c = await losses('{ kind: compressed-sgd, lr: 0.1, aggregator: coordinate-median, compressor: { kind: none } }', 'c');
    expect(c).toEqual(a);
    expect(a.length).toBe(12);
  });
});

describe('the robust exchange on fixed vectors', () => {
  const vectors = [
    [1, 10, -3],
    [2, 20, 0],
    [3, -50, 1],
    [100, 30, 2],
  ];
  // Coordinate median of 4 values: the mean of the two middle ones.
  const median = [2.5, 15, 0.5];

  it('ring: every worker all-gathers and gets the hand-computed coordinate median', async () => {
    const { eps } = inprocNet(4, 'ring');
    const outs = eps.map(() => new Float32Array(3));
    await Promise.all(eps.map((ep, r) => new RobustExchange({ kind: 'coordinate-median' }, 'ring').aggregate(ep, Float32Array.from(vectors[r]!), outs[r]!)));
    for (const o of outs) expect([...o]).toEqual(median);
    // (n - 1) vectors of 3 floats sent per worker.
    for (const ep of eps) expect(ep.stats.bytesSent).toBe(3 * 3 * 4);
  });

  it('star: the server aggregates the pushes (trimmed mean, beta 0.25: drop 1 each end)', async () => {
    const { eps, server } = inprocNet(4, 'star');
    void serveRobustAggregates(server!, { kind: 'trimmed-mean', beta: 0.25 });
    const outs = eps.map(() => new Float32Array(3));
    await Promise.all(eps.map((ep, r) => new RobustExchange({ kind: 'trimmed-mean', beta: 0.25 }, 'star').aggregate(ep, Float32Array.from(vectors[r]!), outs[r]!)));
    for (const o of outs) expect([...o]).toEqual(median);
    for (const ep of eps) expect(ep.stats.bytesSent).toBe(3 * 4);
  });
});

describe('Byzantine roles', () => {
  /** A fake oracle: the gradient is (sum of the batch's indices, step-independent) + params[0]. */
  const oracle: GradientOracle = {
    paramCount: 2,
    lossAndGrad: (p, b, g) => {
      let s = 0;
      for (const i of b) s += i;
      g[0] = s + p[0]!;
      g[1] = -s;
      return 0;
    },
    evaluate: async () => ({ loss: 0, accuracy: 0 }),
    lastTiming: () => ({ wallSec: 0, cpuSec: 0 }),
  };
  const shards = Array.from({ length: 5 }, (_, w) => Int32Array.from({ length: 40 }, (_, i) => 100 * w + i));
  const setup = (faults: FaultSchedule) => ({ faults, workers: 5, seed: 7, batchSize: 4, shards, oracle, flippedOracle: () => oracle });

  it('sign-flip replaces the gradient from step `from` on, and only then is the step marked', () => {
    const faults = new FaultSchedule([{ kind: 'byzantine', workers: [1], attack: { attack: 'sign-flip', scale: 2 }, from: 3 }]);
    expect(byzantineRoleOf(0, setup(faults))).toBeUndefined();
    const role = byzantineRoleOf(1, setup(faults))!;
    const g = Float32Array.of(1, -4);
    role.corrupt(2, Float32Array.of(0, 0), g);
    expect([...g]).toEqual([1, -4]);
    expect(role.attackAt(2)).toBeNull();
    role.corrupt(3, Float32Array.of(0, 0), g);
    expect([...g]).toEqual([-2, 8]);
    expect(role.attackAt(3)).toBe('sign-flip');
  });

  it('a-little-is-enough uses the honest workers\' gradients of the very batches they draw', () => {
    const faults = new FaultSchedule([{ kind: 'byzantine', workers: [0, 4], attack: { attack: 'a-little-is-enough', z: 1.5 }, from: 2 }]);
    const role = byzantineRoleOf(4, setup(faults))!;
    // The honest workers 1..3 draw from their own samplers (seeded as in the worker host).
    const honest = [1, 2, 3].map((j) => new BatchSampler(shards[j]!, 4, 7, j));
    const params = Float32Array.of(0.5, 0);
    for (let step = 1; step <= 3; step++) {
      const sums = honest.map((s) => s.next().reduce((a, b) => a + b, 0));
      const g = Float32Array.of(9, 9);
      role.corrupt(step, params, g);
      if (step < 2) {
        expect([...g]).toEqual([9, 9]);
        continue;
      }
      const mean = sums.reduce((a, b) => a + b, 0) / 3;
      const std = Math.sqrt(sums.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
      expect(g[0]).toBeCloseTo(mean + 0.5 - 1.5 * std, 3);
      expect(g[1]).toBeCloseTo(-mean - 1.5 * std, 3);
    }
  });
});

describe('bad input: exit 2 and one located line', () => {
  const base = `workers: 6
data: { dataset: blobs, samples: 600, testSamples: 100, features: 4, classes: 3 }
model: { kind: logistic }
train: { steps: 5 }
`;
  const cases: [string, string, RegExp][] = [
    ['f too large for Krum (n <= 2f + 2)', 'optimizer: { kind: allreduce-sgd, aggregator: { kind: krum, f: 2 } }\n', /exp\.yaml:\d+:\d+: optimizer\.aggregator\.f: expected an integer f with n > 2f \+ 2 for n = 6 workers, i\.e\. 0 <= f <= 1, found 2/],
    ['krum without f', 'optimizer: { kind: allreduce-sgd, aggregator: krum }\n', /optimizer\.aggregator: expected the number of Byzantine workers to tolerate for krum/],
    ['unknown aggregator', 'optimizer: { kind: allreduce-sgd, aggregator: median }\n', /optimizer\.aggregator: expected one of mean, coordinate-median, trimmed-mean, krum, multi-krum, geometric-median, found "median"/],
    ['Krum for the n - b gradients of backup workers', 'optimizer: { kind: backup-workers, backup: 2, aggregator: { kind: krum, f: 1 } }\ntopology: { kind: star }\n', /optimizer\.aggregator\.f: expected an integer f with n > 2f \+ 2 for n = 4 gradients per step \(workers - backup\)/],
    ['Krum at the master with more crashes than it can lose', 'optimizer: { kind: backup-workers, backup: 0, aggregator: { kind: krum, f: 1 } }\ntopology: { kind: star }\nfaults: [{ kind: crash, worker: 2, at: 3 }, { kind: crash, worker: 3, at: 3 }]\n', /faults\.1\.worker: expected at most 1 crashed workers for krum with f = 1 \(it needs more than 2f \+ 2 = 4 gradients per step\), found 2/],
    ['aggregator on an algorithm that cannot take it', 'optimizer: { kind: async-sgd, aggregator: coordinate-median }\ntopology: { kind: star }\n', /optimizer\.aggregator: does not apply to optimizer\.kind async-sgd \(it is a key of allreduce-sgd, compressed-sgd, backup-workers[^)]*\)/],
    ['a robust aggregator on the summing ring of compressed-sgd', 'optimizer: { kind: compressed-sgd, aggregation: ring, aggregator: coordinate-median }\n', /optimizer\.aggregation: expected allgather, ps or auto with a robust aggregator \(the ring sums the payloads on the way\), found ring/],
    ['unknown attack', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [1], attack: sign-flop }]\n', /faults\.0\.attack: expected one of sign-flip, gaussian, scaled, label-flip, a-little-is-enough, found "sign-flop" \(did you mean 'sign-flip'\?\)/],
    ['byzantine worker index out of range', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [1, 6], attack: sign-flip }]\n', /faults\.0\.workers: expected worker ranks below workers \(6\), found 6/],
    ['byzantine on an algorithm whose workers do not send gradients', 'optimizer: { kind: diloco, localSteps: 2 }\nfaults: [{ kind: byzantine, workers: [1], attack: sign-flip }]\n', /faults\.0\.kind: expected an algorithm whose workers send their gradients \(allreduce-sgd, compressed-sgd, powersgd, backup-workers, async-sgd[^)]*\) for a byzantine fault, found optimizer diloco/],
    ['gaussian without std', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [1], attack: gaussian }]\n', /faults\.0\.std: expected a standard deviation std for a gaussian attack, found nothing/],
    ['a key of another attack', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [1], attack: sign-flip, std: 3 }]\n', /faults\.0\.std: does not apply to attack sign-flip \(it is a key of gaussian\)/],
    ['a-little-is-enough with an attacking majority', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [0, 1, 2, 3], attack: a-little-is-enough }]\n', /faults\.0\.workers: expected between 1 and 3 attackers for a-little-is-enough with n = 6/],
    ['label-flip on regression', 'optimizer: { kind: allreduce-sgd }\nfaults: [{ kind: byzantine, workers: [1], attack: label-flip }]\n', /faults\.0\.attack: expected a classification data set for label-flip/],
  ];
  for (const [name, body, want] of cases) {
    it(name, async () => {
      const dir = tmp();
      const file = join(dir, 'exp.yaml');
      const text = name === 'label-flip on regression' ? base.replace('{ dataset: blobs, samples: 600, testSamples: 100, features: 4, classes: 3 }', '{ dataset: linear, samples: 600 }').replace('logistic', 'linear') + body : base + body;
      writeFileSync(file, text);
      const r = await cliInProcess(['validate', file]);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(2);
    });
  }
});

describe('identical metrics over ws and in process', () => {
  async function both(extra: string): Promise<void> {
    const dir = tmp();
    const file = experiment(dir, extra);
    const a = join(dir, 'inproc');
    const b = join(dir, 'ws');
    await runExperiment(loadConfig(file, { sets: ['train.steps=6', 'workers=6', 'train.evalEvery=3'] }), { outDir: a });
    await runExperiment(loadConfig(file, { sets: ['train.steps=6', 'workers=6', 'train.evalEvery=3', 'transport.kind=ws', 'transport.processes=2'] }), { outDir: b });
    expect(deterministicMetrics(b)).toEqual(deterministicMetrics(a));
    expect(metrics(a).length).toBe(8);
    expect(readFileSync(join(b, 'timeline.jsonl'), 'utf8')).toBe(readFileSync(join(a, 'timeline.jsonl'), 'utf8'));
  }

  it('ring, Krum, a-little-is-enough and gaussian attackers', async () => {
    await both('optimizer: { kind: allreduce-sgd, lr: 0.1, aggregator: { kind: krum, f: 1 } }\nfaults: [{ kind: byzantine, workers: [1], attack: a-little-is-enough, from: 3 }, { kind: byzantine, workers: [4], attack: gaussian, std: 5 }]');
  });

  it('backup workers on a star, trimmed mean at the master, a label-flipping worker', async () => {
    await both('optimizer: { kind: backup-workers, backup: 1, lr: 0.1, aggregator: { kind: trimmed-mean, beta: 0.2 } }\ntopology: { kind: star }\nfaults: [{ kind: byzantine, workers: [2], attack: label-flip }]\nstragglers: { delay: { kind: shifted-exponential, mean: 1 ms } }');
  });
});
