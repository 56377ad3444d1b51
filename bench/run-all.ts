// npm run bench: every benchmark, each in its own process (backends and kernels are global).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR } from './bench-io.ts';

for (const b of ['startup.ts', 'train-step.ts', 'allreduce-throughput.ts', 'compressors.ts', 'powersgd.ts', 'emulation-overhead.ts', 'logical-workers.ts', 'time-only-scale.ts', 'network-model.ts', 'unit-scheduler.ts', 'message-units.ts', 'auto-choice.ts', 'step-profile.ts', 'robust-aggregators.ts', 'encoded-gap.ts', 'peer-pytorch.ts']) {
  process.stderr.write(`== ${b}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, b)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
