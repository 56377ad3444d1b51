// Linear cost in logical workers: logistic regression with 16, 64, 256 and 1024 logical workers in
// one process, the same number of worker-steps at every n (steps = WORKER_STEPS / n), ring
// all-reduce SGD. Reports training wall time per worker-step and its ratio to n = 16's, for the
// batched in-process all-reduce (the default) and, up to PER_MESSAGE_MAX workers, for the
// per-message path (transport.batchCollectives=false) it replaces.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { BENCH_DIR, writeResult } from './bench-io.ts';

const WORKER_STEPS = Number(process.env['BENCH_WORKER_STEPS'] ?? 10240);
const SIZES = (process.env['BENCH_SIZES'] ?? '16,64,256,1024').split(',').map(Number);
const PER_MESSAGE_MAX = Number(process.env['BENCH_PER_MESSAGE_MAX'] ?? 64);

async function measure(n: number, batched: boolean): Promise<Record<string, number | boolean>> {
  const steps = Math.max(2, Math.round(WORKER_STEPS / n));
  const sets = [`workers=${n}`, `train.steps=${steps}`, `data.samples=${Math.max(20000, 64 * n)}`, `transport.batchCollectives=${batched}`];
  const lc = loadConfig(join(BENCH_DIR, 'logreg-scaling.yaml'), { sets });
  const outDir = join(BENCH_DIR, 'results', 'runs', `logreg-${n}-${batched ? 'batched' : 'per-message'}`);
  rmSync(outDir, { recursive: true, force: true });
  const { summary } = await runExperiment(lc, { outDir });
  const gradCpu = summary.workers.reduce((a, w) => a + w.gradCpuSec, 0);
  return {
    workers: n,
    batched,
    steps,
    trainWallSec: summary.trainWallSec,
    usPerWorkerStep: (1e6 * summary.trainWallSec) / (n * steps),
    gradientCpuUsPerWorkerStep: (1e6 * gradCpu) / (n * steps),
    simTimeSec: summary.simTimeSec,
    totalBits: summary.totalBits,
  };
}

const rows: Record<string, number | boolean>[] = [];
for (const n of SIZES) {
  rows.push(await measure(n, true));
  if (n <= PER_MESSAGE_MAX) rows.push(await measure(n, false));
}
const base = rows.find((r) => r['batched'] && r['workers'] === SIZES[0])!;
for (const r of rows) r['ratioToSmallestBatched'] = (r['usPerWorkerStep'] as number) / (base['usPerWorkerStep'] as number);
writeResult('logical-workers', {
  experiment: 'bench/logreg-scaling.yaml: logistic regression (20 features, batch 16), ring all-reduce SGD, in process',
  workerSteps: WORKER_STEPS,
  target: 'usPerWorkerStep at 1024 <= 1.5x that at 16 (batched)',
  rows,
});
