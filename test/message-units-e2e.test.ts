import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { deterministicMetrics, json, tmp } from './helpers/cli.ts';

/**
 * Message collectives timed as units (max-min, cut-through topologies) keep determinism end to
 * end: a top-k compressed-sgd run (ring all-gather of the sparse payloads across an
 * oversubscribed tree) and a D-PSGD run (gossip in islands: incast on the members' NICs) give the
 * same metrics in process and over ws worker processes packed 2 and 3 ranks to a process.
 */
async function run(optimizer: string, topology: string, transport: string) {
  const dir = tmp();
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: message-units
seed: 4
workers: 6
data: { dataset: logistic, samples: 1200, testSamples: 200, features: 12, batchSize: 16 }
model: { kind: logistic }
optimizer: ${optimizer}
topology: ${topology}
network: { bandwidth: 100 Mb/s, latency: 200 us }
train: { steps: 8, evalEvery: 4 }
transport: ${transport}
`,
  );
  const out = join(dir, 'run');
  await runExperiment(loadConfig(file), { outDir: out });
  return { metrics: deterministicMetrics(out), summary: json<Record<string, unknown>>(join(out, 'summary.json')) };
}

describe('message collectives as units, end to end', () => {
  for (const [name, optimizer, topology, processes] of [
    ['compressed-sgd top-k on a tree', '{ kind: compressed-sgd, lr: 0.5, compressor: { kind: topk, ratio: 0.25 } }', '{ kind: tree, arity: 2, oversubscription: 4 }', 3],
    ['dpsgd on islands', '{ kind: dpsgd, lr: 0.5, momentum: 0.5 }', '{ kind: hierarchical, groups: [2, 4], inter: { bandwidth: 10 Mb/s, latency: 2 ms } }', 2],
  ] as const) {
    it(`${name}: identical metrics in process and over ws (${processes} processes)`, async () => {
      const a = await run(optimizer, topology, '{ kind: inproc }');
      const w = await run(optimizer, topology, `{ kind: ws, processes: ${processes} }`);
      expect(w.metrics).toEqual(a.metrics);
      const evals = a.metrics.filter((l) => l['kind'] === 'eval');
      expect(evals.at(-1)!['evalAccuracy'] as number).toBeGreaterThan(0.75);
    });
  }
});
