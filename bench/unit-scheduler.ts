// What deferring background collectives costs (src/sim/unit-scheduler.ts): wall time to decide a
// ring all-reduce on a hierarchical network (N nodes, 2 islands joined by a WAN) with k other
// collectives pending (entered, not yet needed: Streaming DiLoCo fragments in flight), against
// the max-min flow simulation of it alone in the same run (the baseline). k = 0 is the decision
// as before: alone against the ledger, here through neighbour-ring-time.ts (no shared link).
// `node --import tsx bench/unit-scheduler.ts [nodes]`
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { replaySchedule } from '../src/sim/collective-time.ts';
import { UnitScheduler } from '../src/sim/unit-scheduler.ts';
import { buildTopology } from '../topologies/index.ts';
import { timeIt, writeResult } from './bench-io.ts';

const N = Number(process.argv[2] ?? 64);
const M = 4e6; // bytes per fragment
const topo = buildTopology('hierarchical', N, { bandwidth: 100e9, latency: 2e-6 }, { groups: 2, inter: { bandwidth: 1e9, latency: 1e-3 } });
const schedule = allReduceSchedule('ring', N, M / 4, {}, exactCut);

const baseline = await timeIt(() => replaySchedule(topo, schedule, 0, 'max-min'), 5, 1);
process.stderr.write(`alone, max-min flow simulation: ${baseline.toFixed(4)} s\n`);
const seconds: Record<string, number> = {};
const finish: Record<string, number> = {};
for (const k of [0, 1, 2, 4, 8]) {
  seconds[k] = await timeIt(
    () => {
      const s = new UnitScheduler(topo, null);
      // Fragments sent 1 ms apart; the first is needed after the k others were sent.
      for (let i = 0; i <= k; i++) s.enter(schedule, new Array<number>(N).fill(i * 1e-3), i + 1);
      finish[k] = s.decide(1).makespan;
    },
    5,
    1,
  );
  process.stderr.write(`k=${k}: ${seconds[k]!.toFixed(4)} s, first fragment arrives at ${finish[k]!.toFixed(6)} s\n`);
}
const ratioToAloneMaxMin = Object.fromEntries(Object.entries(seconds).map(([k, s]) => [k, s / baseline]));
writeResult('unit-scheduler', { nodes: N, bytes: M, transfers: schedule.rounds.reduce((s, r) => s + r.transfers.length, 0), aloneMaxMinSeconds: baseline, seconds, ratioToAloneMaxMin, firstArrival: finish });
