import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicMetrics, dtemu, json, tmp } from './helpers/cli.ts';

/**
 * Topologies and collectives beyond the ring keep the project's strongest property: identical
 * metrics in process and over ws worker processes, however they are packed. (Every packing of
 * every collective is also checked at the comm level in collectives.test.ts, where each endpoint
 * has its own network model, the most split packing there is.)
 */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';

function run(dir: string, ...sets: string[]) {
  const r = dtemu(['run', FIXTURE, '--out', dir, '--quiet', '--set', 'train.steps=12', '--set', 'workers=6', ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return deterministicMetrics(dir);
}

describe('network determinism', () => {
  const base = tmp();
  const cases: [string, string[]][] = [
    ['hierarchical islands, auto', ['topology={kind: hierarchical, groups: [2, 4], collective: auto, inter: {bandwidth: 10 Mb/s, latency: 20 ms}}']],
    ['torus 2x3 with a slow node, 2d-ring', ['topology={kind: torus, dims: [2, 3], collective: 2d-ring}', 'network.nodes={3: {bandwidth: 10 Mb/s, latency: 5 ms}}']],
    // The star's server port under max-min: stragglers' pushes share the ingress, replies the egress.
    ['star, shared port under max-min', ['topology={kind: star}']],
    // Faults inside unit-timed collectives: a degraded NIC, then rank 2 cut off for 10 ms.
    ['switch tree under a link fault and a partition', ['topology={kind: switch, collective: tree}', 'faults=[{kind: link, link: up-1, bandwidth: 10 Mb/s, at: 1 ms, for: 20 ms}, {kind: partition, workers: [2], at: 30 ms, for: 10 ms}]']],
  ];
  for (const [name, sets] of cases) {
    it(`${name}: in process = ws with 2 processes`, () => {
      const key = name.replace(/\W+/g, '-');
      const inproc = run(join(base, `${key}-in`), 'transport.kind=inproc', ...sets);
      const ws = run(join(base, `${key}-ws`), 'transport.processes=2', ...sets);
      expect(ws).toEqual(inproc);
      expect(inproc.filter((l) => l['kind'] === 'train')).toHaveLength(12);
      const s = json<{ collective?: { model: { algorithm: string } } }>(join(base, `${key}-in`, 'summary.json'));
      if (!name.startsWith('star')) expect(s.collective!.model.algorithm).toBeTruthy();
      // The Gantt's collective phases are part of the deterministic timeline too.
      const timeline = (d: string) => readFileSync(join(base, d, 'timeline.jsonl'), 'utf8');
      expect(timeline(`${key}-ws`)).toBe(timeline(`${key}-in`));
      if (s.collective?.model.algorithm === '2d-ring') {
        const phases = new Set(timeline(`${key}-in`).trim().split('\n').flatMap((l) => ((JSON.parse(l) as { phases?: [string][] }).phases ?? []).map((p) => p[0])));
        expect([...phases].sort()).toEqual(['column all-gather', 'column reduce-scatter', 'row all-gather', 'row reduce-scatter']);
      }
    });
  }
});
