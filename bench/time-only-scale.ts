// Time-only mode at scale (dtemu simulate): ring all-reduce SGD of the quickstart's MLP
// (101,770 parameters) with shifted-exponential stragglers (1 ms + Exp(5 ms)), 10,000 workers x
// 100 steps (batch 6: a worker's shard) and 1,024 workers x 1,000 steps (batch 32). Targets: each under 60 s of wall time.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { BENCH_DIR, writeResult } from './bench-io.ts';

const points = (process.env['BENCH_POINTS'] ?? '10000x100,1024x1000').split(',').map((p) => p.split('x').map(Number) as [number, number]);
const rows: Record<string, unknown>[] = [];
for (const [workers, steps] of points) {
  // 60,000 Fashion-MNIST samples over 10,000 workers are 6 each: the batch must fit a shard.
  const batch = Math.min(32, Math.floor(60000 / workers));
  const sets = [`workers=${workers}`, `limits.maxWorkers=${workers}`, `data.batchSize=${batch}`, `train.steps=${steps}`, `train.evalEvery=${steps}`, 'stragglers.delay={kind: shifted-exponential, shift: 1 ms, mean: 5 ms}'];
  const lc = loadConfig(join(BENCH_DIR, '..', 'experiments', 'quickstart.yaml'), { sets, timeOnly: true });
  const outDir = join(BENCH_DIR, 'results', 'runs', `simulate-${workers}x${steps}`);
  rmSync(outDir, { recursive: true, force: true });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { summary } = await runExperiment(lc, { outDir, timeOnly: true });
  const c1 = process.cpuUsage(c0);
  const wallSec = (performance.now() - t0) / 1000;
  // CPU seconds too: on a shared machine wall time mostly measures the other processes.
  const cpuSec = (c1.user + c1.system) / 1e6;
  rows.push({ workers, steps, batch, wallSec, cpuSec, simulateSec: summary.trainWallSec, simTimeSec: summary.simTimeSec, totalBits: summary.totalBits, underTarget: wallSec < 60 });
  process.stderr.write(`${workers} x ${steps}: ${wallSec.toFixed(1)} s wall, ${cpuSec.toFixed(1)} s CPU (${summary.trainWallSec.toFixed(1)} s simulating)\n`);
}
writeResult('time-only-scale', { experiment: 'experiments/quickstart.yaml, time only, ring all-reduce SGD, stragglers 1 ms + Exp(5 ms)', target: 'wallSec < 60 for each point', rows });
