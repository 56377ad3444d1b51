// Emulation overhead: wall time of the training phase of a 4-worker run vs the tfjs gradient
// time the workers spent inside it, measured in the same run. With P worker processes on C
// cores the ideal wall time is sum(gradient time) / min(P, C): everything above it is the
// emulator (communication, codecs, parameter loads, updates, reporting).
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { BENCH_DIR, writeResult } from './bench-io.ts';

const STEPS = Number(process.env['BENCH_STEPS'] ?? 600);
const cores = cpus().length;
const CNN_STEPS = Number(process.env['BENCH_CNN_STEPS'] ?? 100);
const cnn = ['model.kind=cnn', `train.steps=${CNN_STEPS}`];
const variants: { name: string; sets: string[]; processes: number }[] = [
  { name: 'mlp-ws-4-processes', sets: [], processes: 4 },
  { name: 'mlp-ws-2-processes', sets: ['transport.processes=2'], processes: 2 },
  { name: 'mlp-inproc', sets: ['transport.kind=inproc'], processes: 1 },
  { name: 'cnn-ws-4-processes', sets: cnn, processes: 4 },
  { name: 'cnn-ws-2-processes', sets: [...cnn, 'transport.processes=2'], processes: 2 },
  { name: 'cnn-inproc', sets: [...cnn, 'transport.kind=inproc'], processes: 1 },
];
const rows: Record<string, unknown>[] = [];
for (const v of variants) {
  const lc = loadConfig(join(BENCH_DIR, '..', 'experiments', 'quickstart.yaml'), { sets: [`train.steps=${STEPS}`, 'train.evalEvery=100000', ...v.sets] });
  const outDir = join(BENCH_DIR, 'results', 'runs', v.name);
  rmSync(outDir, { recursive: true, force: true });
  const { summary } = await runExperiment(lc, { outDir });
  // CPU time, not wall time: with more processes than cores, a gradient's wall time includes
  // the time its process waited for a core, which would hide the overhead.
  const gradSum = summary.workers.reduce((a, w) => a + w.gradCpuSec, 0);
  const gradWall = summary.workers.reduce((a, w) => a + w.gradWallSec, 0);
  const ideal = gradSum / Math.min(v.processes, cores);
  rows.push({
    variant: v.name,
    processes: v.processes,
    steps: summary.steps,
    trainWallSec: summary.trainWallSec,
    startupSec: summary.wallTimeSec - summary.trainWallSec,
    gradientCpuSecSum: gradSum,
    gradientWallSecSum: gradWall,
    idealWallSec: ideal,
    overhead: summary.trainWallSec / ideal - 1,
    msPerStep: (1000 * summary.trainWallSec) / summary.steps,
  });
}
writeResult('emulation-overhead', {
  experiment: 'quickstart (4 workers, batch 32, ring 1 Gb/s) with its MLP 784-128-10 and with the small CNN; evaluation off',
  cores,
  target: 'overhead <= 0.15',
  rows,
});
