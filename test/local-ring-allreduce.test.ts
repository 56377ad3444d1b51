import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRingAllReduce } from '../comm/collectives/local-ring-allreduce.ts';
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import type { Endpoint } from '../comm/endpoint.ts';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { deterministicMetrics, tmp } from './helpers/cli.ts';
import { inprocNet } from './helpers/inproc-net.ts';
import { mulberry32, normals } from './helpers/prng.ts';

/** Everything an all-reduce leaves behind that anyone could observe. */
function observe(eps: Endpoint[], data: Float32Array[]) {
  return eps.map((ep, r) => ({
    bits: Array.from(new Uint32Array(data[r]!.buffer)),
    now: ep.now,
    bytesSent: ep.stats.bytesSent,
    messagesSent: ep.stats.messagesSent,
    bytesTo: [...ep.stats.bytesTo.entries()].sort((a, b) => a[0] - b[0]),
  }));
}

/**
 * Three all-reduces with random start clocks between them (so the links' occupancy from the
 * previous call matters), through either path, on a fresh network.
 */
async function threeRounds(n: number, len: number, latency: number, seed: number, batched: boolean) {
  const { eps } = inprocNet(n, 'ring', 1e8, latency);
  const rand = mulberry32(seed);
  const data = eps.map(() => new Float32Array(len));
  const local = new LocalRingAllReduce(n);
  const allReduce = batched ? local.allReduce : ringAllReduce;
  const seen = [];
  for (let round = 0; round < 3; round++) {
    for (let r = 0; r < n; r++) {
      normals(len, rand, 10 ** (r % 4), data[r]);
      eps[r]!.now += rand() * 1e-4;
    }
    await Promise.all(eps.map((ep, r) => allReduce(ep, data[r]!)));
    seen.push(observe(eps, data));
  }
  return seen;
}

describe('batched in-process ring all-reduce', () => {
  // Lengths below n give empty chunks; lengths not divisible by n give unequal ones; latency 0
  // makes a sender's own link occupancy, not the arrival, decide its next send.
  const cases: [number, number, number][] = [];
  for (const n of [1, 2, 3, 5, 8, 13]) for (const len of [0, 1, 7, 100, 1001]) for (const latency of [0, 50e-6]) cases.push([n, len, latency]);
  it.each(cases)('n=%i, %i values, latency %d: the same bits, clocks and counters as the per-message ring', async (n, len, latency) => {
    const seed = n * 1000 + len + (latency > 0 ? 7 : 0);
    const perMessage = await threeRounds(n, len, latency, seed, false);
    const batched = await threeRounds(n, len, latency, seed, true);
    expect(batched).toEqual(perMessage);
    if (n > 1 && len > 0) expect(perMessage[2]![0]!.messagesSent).toBe(3 * 2 * (n - 1));
  });

  it('a failed endpoint fails every rank waiting in the batch', async () => {
    const { eps } = inprocNet(3);
    const local = new LocalRingAllReduce(3);
    const waiting = [local.allReduce(eps[0]!, new Float32Array(4)), local.allReduce(eps[1]!, new Float32Array(4))];
    eps[1]!.fail(new Error('peer died'));
    await expect(Promise.all(waiting)).rejects.toThrow('peer died');
  });

  // A whole run, in process, through each path: identical metrics and timeline.
  const runDir = tmp();
  const run = async (name: string, sets: string[]) => {
    const lc = loadConfig('test/fixtures/tiny-blobs.yaml', { sets: ['transport.kind=inproc', 'train.steps=12', 'train.evalEvery=6', ...sets] });
    const outDir = join(runDir, name);
    await runExperiment(lc, { outDir });
    return { metrics: deterministicMetrics(outDir), timeline: readFileSync(join(outDir, 'timeline.jsonl'), 'utf8') };
  };
  it.each([
    ['allreduce-sgd, 4 workers', ['workers=4']],
    ['allreduce-sgd, 8 workers', ['workers=8']],
    ['powersgd, 4 workers', ['workers=4', 'optimizer.kind=powersgd', 'optimizer.rank=2']],
  ])('%s: a run gives the same metrics and timeline through both paths', async (name, sets) => {
    const slug = name.replace(/[^a-z0-9]+/g, '-');
    const batched = await run(`${slug}-batched`, sets);
    const perMessage = await run(`${slug}-per-message`, [...sets, 'transport.batchCollectives=false']);
    expect(batched.metrics.length).toBeGreaterThan(12);
    expect(batched.metrics).toEqual(perMessage.metrics);
    expect(batched.timeline).toEqual(perMessage.timeline);
  });
});
