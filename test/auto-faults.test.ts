import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allReduce, type CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import type { CollectiveKind } from '../comm/collectives/choices.ts';
import { allReduceSchedule, applicableCollectives } from '../comm/collectives/schedules/index.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { autoChooser } from '../src/runtime/auto-collective.ts';
import { parseToCoordinator } from '../src/runtime/protocol-parse.ts';
import { autoRanReport } from '../src/metrics/auto-ran.ts';
import { unitTimer } from '../src/runtime/collective-setup.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { FaultSchedule, type Fault } from '../src/sim/faults.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { UnitLedger } from '../src/sim/unit-ledger.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { deterministicMetrics, dtemuAsync, json, tmp } from './helpers/cli.ts';

/**
 * `topology.collective: auto` on a network that changes: on a 4-node switch (1 Gb/s, 0.1 ms), an
 * all-reduce of 2000 floats takes 0.328 ms by recursive doubling and 0.656 ms by the tree; with
 * node 1's downlink at 100 Mb/s, 1.48 ms by recursive doubling and 1.232 ms by the tree (every
 * rank entering together). A fault on that link for part of the run must flip auto's choice to
 * the tree and back, and every collective must take the time the flow simulation gives it.
 */
const n = 4;
const B = 1e9;
const a = 1e-4;
const LENGTH = 2000;
const FAULT: Fault = { kind: 'link', link: 'down-1', bandwidth: B / 10, latency: null, at: 1.5e-3, for: 5e-3 };
const COMPUTE = 2e-5;
const STEPS = 16;
const sw = () => buildTopology('switch', n, { bandwidth: B, latency: a });

/** The fastest collective from these entries with the run's faults, by timing every candidate (no shortcut). */
function fastest(topo: Topology, faults: FaultSchedule | null, entries: readonly number[]): CollectiveKind {
  let best: CollectiveKind = 'ring';
  let bestTime = Infinity;
  for (const kind of applicableCollectives({}, n)) {
    const t = timeSchedule(topo, allReduceSchedule(kind, n, LENGTH), entries, 'max-min', 4, faults).makespan;
    if (t < bestTime) [best, bestTime] = [kind, t];
  }
  return best;
}

/** STEPS all-reduces with COMPUTE between them, the endpoints split over `processes` network models and option sets. */
async function runSteps(topo: Topology, faults: FaultSchedule | null, processes: number) {
  const router = new InprocRouter();
  const options = Array.from({ length: processes }, () => {
    const o: CollectiveOptions = { collective: 'auto', shape: {}, estimate: (s) => timeSchedule(topo, s, 0, 'max-min').makespan, timeAsUnit: unitTimer(topo, faults) };
    o.chooseAt = autoChooser(topo, faults, o);
    return o;
  });
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo, faults));
    router.attach(ep);
    return ep;
  });
  const clocks: number[][] = [];
  const data = eps.map((_, r) => Float32Array.from({ length: LENGTH }, (_, i) => (r + i) % 7));
  for (let s = 0; s < STEPS; s++) {
    for (const ep of eps) ep.now += COMPUTE;
    await Promise.all(eps.map((ep, r) => allReduce(ep, data[r]!, options[Math.floor((r * processes) / n)]!)));
    clocks.push(eps.map((ep) => ep.now));
  }
  return { clocks, data, stats: options.map((o) => (o.chooseAt as ReturnType<typeof autoChooser>).stats) };
}

/** The reference: per step, the entries, every candidate timed from them, the fastest timed again (with a ledger, as the run does). */
function reference(topo: Topology, faults: FaultSchedule | null) {
  const ledger = new UnitLedger();
  let clock = new Array<number>(n).fill(0);
  const chosen: CollectiveKind[] = [];
  const clocks: number[][] = [];
  for (let s = 0; s < STEPS; s++) {
    const entries = clock.map((c) => c + COMPUTE);
    const kind = fastest(topo, faults, entries);
    chosen.push(kind);
    clock = [...timeSchedule(topo, allReduceSchedule(kind, n, LENGTH), entries, 'max-min', 4, faults, ledger).finish];
    clocks.push(clock);
  }
  return { chosen, clocks };
}

describe('auto chooses with faults and traces (unit-timed collectives)', () => {
  it('a link fault flips recursive doubling to the tree and back; each step takes exactly the chosen collective\'s time; any packing', async () => {
    const topo = sw();
    const faults = new FaultSchedule([FAULT]);
    const got = await runSteps(topo, faults, 1);
    const { chosen, clocks } = reference(topo, faults);
    for (let s = 0; s < STEPS; s++) expect(got.clocks[s], `step ${s + 1}`).toEqual(clocks[s]);
    expect(chosen).toEqual([...Array(5).fill('recursive-doubling'), ...Array(4).fill('tree'), ...Array(7).fill('recursive-doubling')]);
    // Only the 3 collectives that the fault's start or end could reach (within the slowest
    // candidate's time) were timed candidate by candidate, once for the process; the other 13 took
    // the steady choice (asked by each of the 4 ranks).
    expect(got.stats[0]).toEqual({ steady: 13 * n, simulated: 3 });
    // Every rank ends with n^(STEPS - 1) times the sum of the ranks' first vectors (exact in float32).
    for (const d of got.data) for (let i = 0; i < LENGTH; i += 97) expect(d[i]).toBe(n ** (STEPS - 1) * Array.from({ length: n }, (_, r) => (r + i) % 7).reduce((x, y) => x + y, 0));
    // One network model and option set per rank, or per pair of ranks: the same clocks.
    expect((await runSteps(topo, faults, 2)).clocks).toEqual(got.clocks);
    expect((await runSteps(topo, faults, 4)).clocks).toEqual(got.clocks);
  });

  it('a partition: the collectives it reaches are chosen and timed from the entries with it (stalled flows), the others as steady', async () => {
    const topo = sw();
    const faults = new FaultSchedule([{ kind: 'partition', workers: [0, 1], at: 1e-3, for: 2e-3 }]);
    const got = await runSteps(topo, faults, 1);
    const want = reference(topo, faults);
    expect(got.clocks).toEqual(want.clocks);
    // Before and after it the network is the configured one: recursive doubling.
    expect(want.chosen[0]).toBe('recursive-doubling');
    expect(want.chosen[STEPS - 1]).toBe('recursive-doubling');
    expect(got.stats[0]!.simulated).toBeGreaterThan(0);
    expect(got.stats[0]!.steady).toBeGreaterThan(0);
  });

  it('a bandwidth trace doing what the fault does gives the same choices and times', async () => {
    const withFault = await runSteps(sw(), new FaultSchedule([FAULT]), 1);
    const traced = buildTopology('switch', n, { bandwidth: B, latency: a }, { traces: [{ path: [], link: 'down-1', trace: { times: [1.5e-3, 6.5e-3], bandwidth: [B / 10, B], latency: [null, null] } }] });
    expect((await runSteps(traced, null, 1)).clocks).toEqual(withFault.clocks);
  });

  it('summary.json\'s collective.ran: calls per size and collective, and the changes of choice in order', () => {
    const r = autoRanReport([
      [0.1, 8000, 'recursive-doubling'],
      [0.2, 400, 'ring'],
      [0.3, 8000, 'tree'],
      [0.4, 8000, 'tree'],
      [0.5, 400, 'ring'],
      [0.6, 8000, 'recursive-doubling'],
    ]);
    expect(r.counts).toEqual([
      { bytes: 400, algorithm: 'ring', calls: 2 },
      { bytes: 8000, algorithm: 'recursive-doubling', calls: 2 },
      { bytes: 8000, algorithm: 'tree', calls: 2 },
    ]);
    expect(r.changes).toEqual([
      { simTimeSec: 0.1, bytes: 8000, algorithm: 'recursive-doubling' },
      { simTimeSec: 0.2, bytes: 400, algorithm: 'ring' },
      { simTimeSec: 0.3, bytes: 8000, algorithm: 'tree' },
      { simTimeSec: 0.6, bytes: 8000, algorithm: 'recursive-doubling' },
    ]);
    expect(r.changesOmitted).toBe(0);
    // Switches exclude each size's first choice: 8000 B went rd -> tree -> rd.
    expect(r.switches).toBe(2);
    // A long run keeps a bounded record: 1000 changes listed, the rest counted.
    const flips = autoRanReport(Array.from({ length: 1003 }, (_, i) => [i, 8, i % 2 === 0 ? 'ring' : 'tree'] as const));
    expect([flips.changes.length, flips.changesOmitted, flips.changes[999]!.simTimeSec]).toEqual([1000, 3, 999]);
    expect(flips.switches).toBe(1002);
    // A size first seen after the cap is omitted from the list but is not a switch.
    const late = autoRanReport([...Array.from({ length: 1001 }, (_, i) => [i, 8, i % 2 === 0 ? 'ring' : 'tree'] as const), [2000, 16, 'ring'] as const]);
    expect([late.changesOmitted, late.switches]).toEqual([2, 1000]);
    expect(flips.counts).toEqual([
      { bytes: 8, algorithm: 'ring', calls: 502 },
      { bytes: 8, algorithm: 'tree', calls: 501 },
    ]);
  });
});

describe("a step report's auto choices from a worker process", () => {
  it('are [entry time, bytes, a concrete collective] or the report is refused', () => {
    const step = { type: 'step', rank: 0, step: 3, loss: null, simTime: 1, compute: 0.5, delay: 0, comm: 0.5, bytesSent: 10, wallTime: 1, gradWallSec: 0, gradCpuSec: 0 };
    const parse = (collectives: unknown) => parseToCoordinator(JSON.stringify({ t: 'report', r: { ...step, collectives } })).ok;
    expect(parse([[0.5, 8000, 'tree'], [0.7, 400, 'halving-doubling']])).toBe(true);
    for (const bad of [[[0.5, 8000]], [[0.5, -8, 'tree']], [[0.5, 8000, 'auto']], [[0.5, 8000, 'star']], [['0.5', 8000, 'tree']], 'tree', [null]]) expect(parse(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('auto with a link fault, end to end', () => {
  const base = tmp();
  const config = join(base, 'auto-flip.yaml');
  const yaml = `name: auto-flip
seed: 3
workers: ${n}
backend: wasm
data: { dataset: blobs, samples: 400, testSamples: 100, features: 499, classes: 4, batchSize: 16 }
model: { kind: logistic }
optimizer: { kind: allreduce-sgd, lr: 0.05 }
topology: { kind: switch, collective: auto }
network: { bandwidth: 1 Gb/s, latency: 0.1 ms }
compute: { speed: 10 GFLOP/s }
faults:
  - { kind: link, link: down-1, bandwidth: 100 Mb/s, at: 1.5 ms, for: 5 ms }
train: { steps: 12, evalEvery: 12 }
`;

  it('records the flip in summary.json, each step ends when the chosen collective does, identical in process and over ws', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, yaml);
    // Both runs at once (each is mostly start-up and plotting).
    const run = (name: string, ...sets: string[]) =>
      new Promise<{ dir: string; code: number | null; stderr: string }>((resolve) => {
        const dir = join(base, name);
        const child = dtemuAsync(['run', config, '--out', dir, '--quiet', ...sets.flatMap((s) => ['--set', s])]);
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ dir, code, stderr }));
      });
    const runs = await Promise.all([run('inproc', 'transport.kind=inproc'), run('ws', 'transport.kind=ws', 'transport.processes=2')]);
    for (const r of runs) expect([r.code, r.stderr]).toEqual([0, '']);
    const [inproc, ws] = runs.map((r) => r.dir) as [string, string];
    const summary = json<{ simTimeSec: number; collective: { model: { algorithm: string }; ran: ReturnType<typeof autoRanReport> } }>(join(inproc, 'summary.json'));
    expect(summary.collective.model.algorithm).toBe('recursive-doubling');
    expect(summary.collective.ran.counts).toEqual([
      { bytes: 8000, algorithm: 'recursive-doubling', calls: 8 },
      { bytes: 8000, algorithm: 'tree', calls: 4 },
    ]);
    expect(summary.collective.ran.changes.map((c) => c.algorithm)).toEqual(['recursive-doubling', 'tree', 'recursive-doubling']);
    expect(readFileSync(join(inproc, 'report.html'), 'utf8')).toContain('<tr><td>all-reduces auto ran</td><td>recursive-doubling x 8 (8000 B), tree x 4 (8000 B); 2 changes of choice</td></tr>');
    // Each step: the ranks enter at their first phase's start and leave when the chosen collective, timed with the fault, lets them.
    const timeline = readFileSync(join(inproc, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TimelineEvent);
    const topo = sw();
    const faults = new FaultSchedule([FAULT]);
    const ledger = new UnitLedger();
    let last = 0;
    for (let s = 1; s <= 12; s++) {
      const step = timeline.filter((e) => e.step === s).sort((x, y) => x.worker - y.worker);
      const entries = step.map((e) => e.phases![0]![1]);
      const kind = fastest(topo, faults, entries);
      const finish = timeSchedule(topo, allReduceSchedule(kind, n, LENGTH), entries, 'max-min', 4, faults, ledger).finish;
      expect(step.map((e) => e.end), `step ${s} (${kind})`).toEqual([...finish]);
      last = Math.max(...finish);
    }
    expect(summary.simTimeSec).toBe(last);
    // Over ws (two processes, each choosing for its ranks): the same metrics, timeline and summary record.
    expect(deterministicMetrics(ws)).toEqual(deterministicMetrics(inproc));
    expect(readFileSync(join(ws, 'timeline.jsonl'), 'utf8')).toBe(readFileSync(join(inproc, 'timeline.jsonl'), 'utf8'));
    expect(json<typeof summary>(join(ws, 'summary.json')).collective).toEqual(summary.collective);
  }, 120_000);
});
