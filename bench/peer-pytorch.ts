// Peer comparison: the quickstart job as a PyTorch DDP script (bench/pytorch/ddp_quickstart.py,
// gloo, 4 processes, one thread each) against `dtemu run experiments/quickstart.yaml` (4 worker
// processes over ws) and its in-process variant, run in turn ROUNDS times (paired, alternating),
// wall and CPU time (all processes, from GNU time) per run; ratios of medians to PyTorch's.
// Targets: dtemu ws wall <= 1.0x PyTorch, in process <= 0.5x. Skipped, with a message, without a
// python3 that can import torch (Debian: apt-get install -y python3-torch).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, writeResult } from './bench-io.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
const STEPS = Number(process.env['BENCH_STEPS'] ?? 600);
const ROOT = join(BENCH_DIR, '..');
const TIME = '/usr/bin/time';

const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
if (!python) {
  process.stderr.write('peer-pytorch: skipped (no python3 with torch; on Debian: apt-get install -y python3-torch)\n');
  process.exit(0);
}
if (!existsSync(TIME)) {
  process.stderr.write('peer-pytorch: skipped (GNU time not found at /usr/bin/time; apt-get install -y time)\n');
  process.exit(0);
}

/** Wall and CPU seconds (user + system of the process and its children) of a command. */
function timed(cmd: string[]): { wallSec: number; cpuSec: number; stdout: string } {
  const r = spawnSync(TIME, ['-f', 'TIME %e %U %S', ...cmd], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { wallSec: Number(m[1]), cpuSec: Number(m[2]) + Number(m[3]), stdout: r.stdout };
}

const variants: Record<string, () => string[]> = {
  pytorch: () => [python, join('bench', 'pytorch', 'ddp_quickstart.py'), '--steps', String(STEPS)],
  'dtemu-ws': () => dtemu('ws', []),
  'dtemu-inproc': () => dtemu('inproc', ['--set', 'transport.kind=inproc']),
};
function dtemu(name: string, sets: string[]): string[] {
  const out = join(BENCH_DIR, 'results', 'runs', `peer-${name}`);
  rmSync(out, { recursive: true, force: true });
  return [process.execPath, join('bin', 'dtemu.js'), 'run', join('experiments', 'quickstart.yaml'), '--out', out, '--quiet', '--set', `train.steps=${STEPS}`, ...sets];
}

const runs: Record<string, { wallSec: number; cpuSec: number }[]> = { pytorch: [], 'dtemu-ws': [], 'dtemu-inproc': [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, cmd] of Object.entries(variants)) {
    const t = timed(cmd());
    runs[name]!.push({ wallSec: t.wallSec, cpuSec: t.cpuSec });
    process.stderr.write(`round ${round + 1} ${name}: wall ${t.wallSec.toFixed(1)} s, cpu ${t.cpuSec.toFixed(1)} s\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { wallSec: median(v.map((x) => x.wallSec)), cpuSec: median(v.map((x) => x.cpuSec)) }]));
const ratio = (k: string) => ({ wall: med[k]!.wallSec / med['pytorch']!.wallSec, cpu: med[k]!.cpuSec / med['pytorch']!.cpuSec });
writeResult('peer-pytorch', {
  experiment: `quickstart, ${STEPS} steps: PyTorch DDP (gloo, 4 processes, 1 thread each) vs dtemu over ws (4 processes) and in process`,
  python,
  rounds: ROUNDS,
  targets: { 'dtemu-ws wall': '<= 1.0x pytorch', 'dtemu-inproc wall': '<= 0.5x pytorch' },
  runs,
  median: med,
  ratios: { 'dtemu-ws': ratio('dtemu-ws'), 'dtemu-inproc': ratio('dtemu-inproc') },
});
