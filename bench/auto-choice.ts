// What `topology.collective: auto` costs when it chooses with faults and traces: 16 workers on a
// switch (10 Gb/s, 10 us), STEPS all-reduces of a 784-128-10 MLP's gradient (101,770 floats)
// with 1 ms of compute between them, through the real collective path (endpoints, entry
// exchange, unit timing, bytes moved in process). Wall seconds per all-reduce (and of them, the
// seconds inside auto's choice), and ratios
// against auto on the same network without faults (a choice per size, as before) in this run:
// - fault: a NIC's uplink at a tenth of its bandwidth for the middle half of the run (choices
//   from steady stretches; the collectives the fault's start or end can reach time every candidate);
// - trace: that uplink's bandwidth changing at every step (every collective times every candidate);
// - fixed-fault: the collective auto picks on the healthy network, fixed, with the same fault
//   (the cost of unit timing under faults without any choice).
// `node --import tsx bench/auto-choice.ts [steps]`
import { allReduce, type CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import type { CollectiveChoice } from '../comm/collectives/choices.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { autoChooser, networkChanges } from '../src/runtime/auto-collective.ts';
import { unitTimer } from '../src/runtime/collective-setup.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { FaultSchedule, type Fault } from '../src/sim/faults.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { writeResult } from './bench-io.ts';

const STEPS = Number(process.argv[2] ?? 40);
const n = 16;
const LENGTH = 101_770;
const B = 10e9;
const spec = { bandwidth: B, latency: 1e-5 };
const COMPUTE = 1e-3;

async function run(topo: Topology, faults: FaultSchedule | null, collective: CollectiveChoice) {
  const o: CollectiveOptions = { collective, shape: {}, estimate: (s) => timeSchedule(topo, s, 0, 'max-min').makespan, timeAsUnit: unitTimer(topo, faults) };
  const chooser = collective === 'auto' && networkChanges(topo, faults) ? autoChooser(topo, faults, o) : null;
  // Wall time inside auto's choice (the rest is the entry exchange, unit timing and moving bytes).
  let choosing = 0;
  if (chooser)
    o.chooseAt = (k, len, entries) => {
      const c0 = performance.now();
      const kind = chooser(k, len, entries);
      choosing += performance.now() - c0;
      return kind;
    };
  const router = new InprocRouter();
  const model = new NetworkModel(topo, faults);
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, model);
    router.attach(ep);
    return ep;
  });
  const data = eps.map(() => new Float32Array(LENGTH).fill(1 / n));
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    for (const ep of eps) ep.now += COMPUTE;
    await Promise.all(eps.map((ep, r) => allReduce(ep, data[r]!, o)));
  }
  const wall = (performance.now() - t0) / 1000;
  return { wallSecPerAllReduce: wall / STEPS, simTimeSec: Math.max(...eps.map((e) => e.now)), ...(chooser ? { chooser: chooser.stats, choiceSecPerAllReduce: choosing / 1000 / STEPS } : {}) };
}

const sw = buildTopology('switch', n, spec);
// Warm-up (JIT, schedule caches are per options object so each case builds its own).
await run(sw, null, 'auto');
const healthy = await run(sw, null, 'auto');
const T = healthy.simTimeSec;
const fault: Fault = { kind: 'link', link: 'up-3', bandwidth: B / 10, latency: null, at: T / 4, for: T / 2 };
const faulted = await run(sw, new FaultSchedule([fault]), 'auto');
const step = T / STEPS;
const traced = buildTopology('switch', n, spec, {
  traces: [{ path: [], link: 'up-3', trace: { times: Array.from({ length: STEPS }, (_, i) => (i + 0.5) * step), bandwidth: Array.from({ length: STEPS }, (_, i) => (i % 2 === 0 ? B / 10 : B)), latency: Array.from({ length: STEPS }, () => null) } }],
});
const trace = await run(traced, null, 'auto');
const o = { collective: 'auto' as const, shape: {}, estimate: (s: Parameters<typeof timeSchedule>[1]) => timeSchedule(sw, s, 0, 'max-min').makespan };
const { chooseCollective } = await import('../comm/collectives/all-reduce.ts');
const fixedKind = chooseCollective(o, n, LENGTH);
const fixed = await run(sw, new FaultSchedule([fault]), fixedKind);
const ratio = (x: { wallSecPerAllReduce: number }) => x.wallSecPerAllReduce / healthy.wallSecPerAllReduce;
writeResult('auto-choice', {
  workers: n,
  floats: LENGTH,
  steps: STEPS,
  healthy,
  fault: { ...faulted, ratioToHealthy: ratio(faulted) },
  trace: { ...trace, ratioToHealthy: ratio(trace) },
  fixedFault: { collective: fixedKind, ...fixed, ratioToHealthy: ratio(fixed) },
});
