import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { buildTopology } from '../topologies/index.ts';
const N = 1024, M = 100e6;
const sw = buildTopology('switch', N, { bandwidth: 100e9, latency: 2e-6 });
const s = allReduceSchedule('ring', N, M / 4, {}, exactCut);
for (const sh of ['fifo', 'max-min'] as const) {
  for (let i = 0; i < 10; i++) { const c0 = process.cpuUsage(); const t0 = performance.now(); const r = timeSchedule(sw, s, 0, sh); const c = process.cpuUsage(c0); console.log(sh, 'fast', (performance.now() - t0).toFixed(1), 'ms wall', ((c.user + c.system) / 1000).toFixed(1), 'ms cpu'); }
}
