// Time-only experiments of the network model (no training, no payloads): run with
//   node --import tsx experiments/network/time-only.ts [outDir]
// Writes collectives-vs-size.png, slow-worker.png, torus.png, utilization.png and time-only.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CollectiveKind } from '../../comm/collectives/choices.ts';
import { allReduceSchedule, exactCut, type NetworkShape } from '../../comm/collectives/schedules/index.ts';
import { scheduleToFlows, timeSchedule } from '../../src/sim/collective-time.ts';
import { linkUtilization } from '../../src/sim/link-utilization.ts';
import { renderLineChart, type Series } from '../../src/plot/render-chart.ts';
import { buildTopology, type Topology } from '../../topologies/index.ts';

const out = process.argv[2] ?? fileURLToPath(new URL('.', import.meta.url));
mkdirSync(out, { recursive: true });
const sizes = Array.from({ length: 25 }, (_, i) => 8 * 10 ** (i / 3)).filter((m) => m <= 1e8);
const FLAT: CollectiveKind[] = ['ring', 'tree', 'recursive-doubling', 'halving-doubling'];
const time = (topo: Topology, kind: CollectiveKind, M: number, shape: NetworkShape = {}) => timeSchedule(topo, allReduceSchedule(kind, topo.workers, M / 4, shape, exactCut), 0, 'max-min').makespan;
const results: Record<string, unknown> = {};

// 1. Collectives vs message size on a 16-worker switch (10 Gb/s NICs, 5 us), closed forms dashed.
{
  const n = 16;
  const B = 10e9;
  const a = 5e-6;
  const sw = buildTopology('switch', n, { bandwidth: B, latency: a });
  const closed: Record<string, (M: number) => number> = {
    ring: (M) => 2 * (n - 1) * (a + (8 * M) / (n * B)),
    tree: (M) => 2 * Math.log2(n) * (a + (8 * M) / B),
    'recursive-doubling': (M) => Math.log2(n) * (a + (8 * M) / B),
    'halving-doubling': (M) => 2 * Math.log2(n) * a + (2 * (n - 1) * 8 * M) / (n * B),
  };
  // Closed forms first: chart.js draws earlier datasets on top, so the dashes show over the points.
  const series: Series[] = FLAT.map((kind) => ({ label: `${kind} (closed form)`, dashed: true, points: sizes.map((M) => ({ x: M, y: closed[kind]!(M) })) }));
  const table: Record<string, number[]> = {};
  for (const kind of FLAT) {
    table[kind] = sizes.map((M) => time(sw, kind, M));
    series.push({ label: `${kind} (simulated)`, points: sizes.map((M, i) => ({ x: M, y: table[kind]![i]! })) });
  }
  const best = sizes.map((M, i) => ({ bytes: M, best: FLAT.reduce((x, y) => (table[y]![i]! < table[x]![i]! ? y : x)) }));
  results['collectivesVsSize'] = { n, bandwidth: B, latency: a, sizes, seconds: table, auto: best };
  writeFileSync(join(out, 'collectives-vs-size.png'), renderLineChart({ title: 'All-reduce on a 16-worker switch (10 Gb/s, 5 us): simulated vs closed form', xLabel: 'message size (bytes)', yLabel: 'time (s)', logX: true, logY: true, series }));
}

// 2. One worker behind a 10 Mb/s, 40 ms link on a 16-worker switch.
{
  const n = 16;
  const uniform = buildTopology('switch', n, { bandwidth: 10e9, latency: 5e-6 });
  const slow = buildTopology('switch', n, { bandwidth: 10e9, latency: 5e-6 }, { nodes: { '5': { bandwidth: 10e6, latency: 40e-3 } } });
  const series: Series[] = [];
  const table: Record<string, { uniform: number[]; slow: number[] }> = {};
  for (const kind of FLAT) {
    table[kind] = { uniform: sizes.map((M) => time(uniform, kind, M)), slow: sizes.map((M) => time(slow, kind, M)) };
    series.push({ label: `${kind}, worker 5 at 10 Mb/s`, points: sizes.map((M, i) => ({ x: M, y: table[kind]!.slow[i]! })) });
  }
  for (const kind of FLAT) series.push({ label: `${kind}, uniform`, dashed: true, points: sizes.map((M, i) => ({ x: M, y: table[kind]!.uniform[i]! })) });
  results['slowWorker'] = table;
  writeFileSync(join(out, 'slow-worker.png'), renderLineChart({ title: 'One worker behind a 10 Mb/s, 40 ms link (16-worker switch, 10 Gb/s)', xLabel: 'message size (bytes)', yLabel: 'time (s)', logX: true, logY: true, series }));
}

// 3. A 4x4 torus: the 2-D ring uses both dimensions' links; the flat ring and halving-doubling
// route over multi-hop paths that share links (max-min).
{
  const dims = [4, 4];
  const torus = buildTopology('torus', 16, { bandwidth: 10e9, latency: 5e-6 }, { dims });
  const kinds: CollectiveKind[] = ['ring', '2d-ring', 'recursive-doubling', 'halving-doubling', 'tree'];
  const series: Series[] = [];
  const table: Record<string, number[]> = {};
  for (const kind of kinds) {
    table[kind] = sizes.map((M) => time(torus, kind, M, { dims }));
    series.push({ label: kind, points: sizes.map((M, i) => ({ x: M, y: table[kind]![i]! })) });
  }
  results['torus'] = table;
  writeFileSync(join(out, 'torus.png'), renderLineChart({ title: 'All-reduce on a 4x4 torus (10 Gb/s, 5 us links), max-min sharing', xLabel: 'message size (bytes)', yLabel: 'time (s)', logX: true, logY: true, series }));
}
// 4. Link utilization over time of the busiest links: one 100 MB all-reduce across two islands of
// 4 workers (100 Gb/s, 2 us inside; 1 Gb/s, 50 ms WAN), halving-doubling vs hierarchical.
{
  const topo = buildTopology('hierarchical', 8, { bandwidth: 100e9, latency: 2e-6 }, { groups: 2, inter: { bandwidth: 1e9, latency: 50e-3 } });
  const series: Series[] = [];
  const table: Record<string, { makespan: number; links: { link: string; bits: number }[] }> = {};
  for (const kind of ['halving-doubling', 'hierarchical'] as CollectiveKind[]) {
    const schedule = allReduceSchedule(kind, 8, 25e6, { groups: topo.groups! }, exactCut);
    const { flows } = scheduleToFlows(schedule, () => 0);
    const usage = linkUtilization(topo, flows, 2);
    table[kind] = { makespan: timeSchedule(topo, schedule, 0).makespan, links: usage.map((u) => ({ link: u.link, bits: u.bits })) };
    for (const u of usage) {
      const points: { x: number; y: number }[] = [];
      u.times.forEach((t, i) => {
        if (i > 0) points.push({ x: t, y: u.value[i - 1]! });
        points.push({ x: t, y: u.value[i]! });
      });
      series.push({ label: `${kind}: ${u.link} (${(u.bits / 8e6).toFixed(0)} MB)`, points, dashed: kind === 'hierarchical' });
    }
  }
  results['utilization'] = table;
  writeFileSync(join(out, 'utilization.png'), renderLineChart({ title: 'Busiest links during one 100 MB all-reduce across 2 islands (1 Gb/s, 50 ms WAN)', xLabel: 'virtual time (s)', yLabel: 'utilization', series }));
}
writeFileSync(join(out, 'time-only.json'), JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`wrote ${out}\n`);
