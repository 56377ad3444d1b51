import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { deterministicMetrics, json, tmp } from './helpers/cli.ts';

/**
 * Message collectives timed as units (max-min, cut-through topologies) keep determinism end to
 * end: a top-k compressed-sgd run (ring all-gather of the sparse payloads on a graph whose middle
 * link carries three routes each way) and a D-PSGD run (gossip in islands: incast on the
 * members' NICs) give the same metrics in process and over ws worker processes packed 2 and 3
 * ranks to a process.
 */
async function run(optimizer: string, topology: string, transport: string, sharing = 'max-min') {
  const dir = tmp();
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: message-units
seed: 4
workers: 6
data: { dataset: logistic, samples: 600, testSamples: 200, features: 12, batchSize: 16 }
model: { kind: logistic }
optimizer: ${optimizer}
topology: ${topology}
network: { bandwidth: 100 Mb/s, latency: 200 us, sharing: ${sharing} }
train: { steps: 6, evalEvery: 6 }
transport: ${transport}
`,
  );
  const out = join(dir, 'run');
  await runExperiment(loadConfig(file), { outDir: out });
  const timeline = readFileSync(join(out, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { transfers?: [number, number, number, number | null][] });
  return { metrics: deterministicMetrics(out), summary: json<Record<string, unknown>>(join(out, 'summary.json')), timeline };
}

describe('message collectives as units, end to end', () => {
  for (const [name, optimizer, topology, processes] of [
    ['compressed-sgd top-k on a graph with a shared middle link', '{ kind: compressed-sgd, lr: 0.5, compressor: { kind: topk, ratio: 0.25 } }', '{ kind: graph, links: [[0, 4], [2, 4], [4, 5], [5, 1], [5, 3]] }', 3],
    ['dpsgd on islands', '{ kind: dpsgd, lr: 0.5, momentum: 0.5 }', '{ kind: hierarchical, groups: [2, 4] }', 2],
  ] as const) {
    it(`${name}: identical metrics in process and over ws (${processes} processes)`, async () => {
      const a = await run(optimizer, topology, '{ kind: inproc }');
      const w = await run(optimizer, topology, `{ kind: ws, processes: ${processes} }`);
      expect(w.metrics).toEqual(a.metrics);
      // The unit's times reach the timeline's messages (trace.json draws them in flight).
      const sent = a.timeline.flatMap((l) => l.transfers ?? []);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((t) => t[3] !== null && t[3] > t[2])).toBe(true);
      // Contention is real: sharing the links max-min takes longer than each message alone.
      const fifo = await run(optimizer, topology, '{ kind: inproc }', 'fifo');
      expect(a.summary['simTimeSec'] as number).toBeGreaterThan(fifo.summary['simTimeSec'] as number);
      const evals = a.metrics.filter((l) => l['kind'] === 'eval');
      expect(evals.at(-1)!['evalAccuracy'] as number).toBeGreaterThan(0.75);
    });
  }
});
