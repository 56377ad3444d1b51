import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { buildTopology } from '../topologies/index.ts';
const N = 1024, M = 100e6;
const sw = buildTopology('switch', N, { bandwidth: 100e9, latency: 2e-6 });
const s = allReduceSchedule('ring', N, M / 4, {}, exactCut);
const scan = () => { let acc = 0; for (const r of s.rounds) { const ts = r.transfers; for (let k = 0; k < ts.length; k++) { const t = ts[k]!; acc += (t.end - t.start) + t.from + t.to; } } return acc; };
for (let i = 0; i < 6; i++) {
  let t0 = performance.now(); scan(); const a = performance.now() - t0;
  t0 = performance.now(); timeSchedule(sw, s, 0, 'fifo'); const b = performance.now() - t0;
  t0 = performance.now(); timeSchedule(sw, s, 0, 'max-min'); const c = performance.now() - t0;
  console.log('scan', a.toFixed(1), 'fifo', b.toFixed(1), 'max-min', c.toFixed(1));
}
