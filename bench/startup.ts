// Start-up: `dtemu --help`, `dtemu validate experiments/quickstart.yaml`, and the time until 4 ws
// worker processes are ready (a 1-step quickstart: wall time before training starts), each with
// the compiled dist/ (the default once built) and from the TypeScript sources through tsx
// (DTEMU_FROM_SOURCE=1, what every start cost before dist/), REPS times each, medians.
// Targets: --help < 0.5 s, validate < 1 s, workers ready in half the from-source time.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, writeResult } from './bench-io.ts';

const REPS = Number(process.env['BENCH_REPS'] ?? 5);
const ROOT = join(BENCH_DIR, '..');
const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) throw new Error('npm run build failed');

function wall(args: string[], fromSource: boolean): number {
  const env = { ...process.env, DTEMU_FROM_SOURCE: fromSource ? '1' : '0' };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dtemu.js'), ...args], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dtemu ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

function workersReady(fromSource: boolean): number {
  const out = join(BENCH_DIR, 'results', 'runs', `startup-${fromSource ? 'source' : 'dist'}`);
  rmSync(out, { recursive: true, force: true });
  wall(['run', 'experiments/quickstart.yaml', '--out', out, '--quiet', '--set', 'train.steps=1', '--set', 'train.evalEvery=1'], fromSource);
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { wallTimeSec: number; trainWallSec: number };
  // Everything before the first step: coordinator start-up, spawning, joining, data, ready.
  return s.wallTimeSec - s.trainWallSec;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const measures: Record<string, (fromSource: boolean) => number> = {
  help: (s) => wall(['--help'], s),
  validate: (s) => wall(['validate', 'experiments/quickstart.yaml'], s),
  workersReady: workersReady,
};
const result: Record<string, { dist: number; source: number; ratio: number }> = {};
for (const [name, f] of Object.entries(measures)) {
  const dist: number[] = [];
  const source: number[] = [];
  for (let i = 0; i < REPS; i++) {
    dist.push(f(false));
    source.push(f(true));
  }
  result[name] = { dist: median(dist), source: median(source), ratio: median(dist) / median(source) };
  process.stderr.write(`${name}: dist ${result[name]!.dist.toFixed(3)} s, source ${result[name]!.source.toFixed(3)} s\n`);
}
writeResult('startup', {
  what: 'median wall seconds; workersReady = summary wallTimeSec - trainWallSec of a 1-step quickstart over ws (4 processes)',
  reps: REPS,
  targets: { help: '< 0.5 s', validate: '< 1 s', workersReady: 'dist <= 0.5x source' },
  result,
});
