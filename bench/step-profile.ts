// Per-step profile of the quickstart's gradient path over ws (issue #15): runs
// `dtemu run experiments/quickstart.yaml` as a user does (worker processes, default packing),
// every process sampled by V8's profiler (bench/cpu-profile-preload.mjs through NODE_OPTIONS),
// then splits the worker processes' samples by what their stacks are doing: the gradient itself
// (tfjs forward + backward), copies into and out of tfjs, batch assembly, encode / decode,
// the ring all-reduce's own arithmetic, ws sends and receives, the averaging and the SGD
// update, reports, evaluation, the event loop, garbage collection, idle time (waiting for peers),
// and start-up (module loading, data). Writes bench/results/step-profile.json: milliseconds per
// worker-step for each part (sampled time, so on a loaded machine every part grows together:
// read the shares), and the run's wall time per step.
// `node --import tsx bench/step-profile.ts [steps]`; BENCH_SETS="a=b c=d" adds --set overrides.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, writeResult } from './bench-io.ts';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const STEPS = Number(process.argv[2] ?? 300);
const root = join(BENCH_DIR, '..');
const work = mkdtempSync(join(tmpdir(), 'dtemu-step-profile-'));
const profDir = join(work, 'prof');
const outDir = join(work, 'run');
const sets = ['train.steps=' + STEPS, 'train.evalEvery=100', ...(process.env['BENCH_SETS'] ?? '').split(' ').filter((s) => s)];
const args = [join(root, 'bin', 'dtemu.js'), 'run', join(root, 'experiments', 'quickstart.yaml'), '--out', outDir, '--quiet', ...sets.flatMap((s) => ['--set', s])];
const t0 = performance.now();
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${join(BENCH_DIR, 'cpu-profile-preload.mjs')}`, DTEMU_CPU_PROFILE_DIR: profDir },
});
const wallSec = (performance.now() - t0) / 1000;
if (r.status !== 0) throw new Error(`dtemu run exited with ${r.status}`);
const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as { trainWallSec: number; wallTimeSec: number; steps: number; finalAccuracy: number };
const config = readFileSync(join(outDir, 'config.yaml'), 'utf8');
const workers = Number(/^workers: (\d+)/m.exec(config)?.[1] ?? 4);

/** What a sample's stack (leaf first) is doing. The order of the tests is the priority. */
function classify(stack: CallFrame[]): string {
  const leaf = stack[0]!;
  if (leaf.functionName === '(idle)') return 'idle (waiting for peers, timers)';
  if (leaf.functionName === '(garbage collector)') return 'garbage collection';
  const has = (name: string, url = '') => stack.some((f) => f.functionName === name && f.url.includes(url));
  const inUrl = (part: string) => stack.some((f) => f.url.includes(part));
  const nearest = (names: string[]) => stack.find((f) => names.includes(f.functionName))?.functionName;
  if (has('evaluate', 'train/trainer')) return 'evaluation (rank 0, every 100 steps)';
  if (has('computeLossAndGrad', 'train/trainer')) {
    if (has('load', 'train/trainer')) return 'copy in: parameters into tfjs variables';
    if (has('fillBatch')) return 'batch: gather samples into the input buffer';
    const n = nearest(['variableGrads', 'dataSync', 'tensor2d', 'tensor1d', 'dispose']);
    if (n === 'variableGrads') return 'gradient: tfjs forward + backward';
    if (n === 'dataSync') return 'copy out: gradients and loss out of tfjs';
    if (n === 'tensor2d' || n === 'tensor1d') return 'copy in: batch into tfjs tensors';
    if (n === 'dispose') return 'tfjs: dispose tensors';
    return 'copy out: gradients and loss out of tfjs';
  }
  // The first system call after the gradient: on a loaded machine it is where the scheduler
  // takes the core away (0.4 ms measured for resourceUsage or cpuUsage alike, 0.03 ms for a second call).
  if (has('cpuUsage')) return 'first syscall after the gradient (process.cpuUsage; preemption under load)';
  if (has('sgdStep')) return 'update: SGD with momentum';
  if (has('encodeMessage')) return 'encode messages (wire codec)';
  if (has('decodeMessage')) return 'decode messages (wire codec)';
  if (inUrl('ws/lib/sender') || has('writev') || has('writeGeneric') || has('writeBuffer')) return 'ws: send (framing, socket writes)';
  if (inUrl('ws/lib/receiver') || has('onStreamRead') || has('concat')) return 'ws: receive (socket reads, reassembly)';
  if (inUrl('comm/collectives/')) return 'ring all-reduce: reduce arithmetic and chunking';
  if (inUrl('optimizers/allreduce-sgd/')) return 'average: gradient / n';
  if (inUrl('comm/')) return 'transport and endpoints (routing, clocks)';
  if (has('reportStep') || has('report') || inUrl('runtime/protocol') || has('stringify')) return 'reports to the coordinator';
  if (inUrl('node:internal/modules') || inUrl('tsx/') || inUrl('ajv/') || inUrl('zlib') || has('compileFunction') || inUrl('/train/data/') || inUrl('/config/') || inUrl('bootstrap')) return 'start-up: modules, config, data';
  if (inUrl('optimizers/') || inUrl('runtime/worker-host') || inUrl('/train/')) return 'worker step loop (other)';
  if (leaf.functionName === '(program)') return 'V8 / native (unattributed)';
  return 'event loop and other';
}

function split(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    let cat = memo.get(id);
    if (cat === undefined) {
      const stack: CallFrame[] = [];
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x)!.callFrame);
      cat = classify(stack);
      memo.set(id, cat);
    }
    out.set(cat, (out.get(cat) ?? 0) + p.timeDeltas[i]! / 1000);
  }
  return out;
}

const files = readdirSync(profDir);
const workerMs = new Map<string, number>();
let workerProcesses = 0;
const coordinator = new Map<string, number>();
for (const f of files) {
  const parts = split(JSON.parse(readFileSync(join(profDir, f), 'utf8')) as Profile);
  const into = f.startsWith('worker-') ? workerMs : coordinator;
  if (f.startsWith('worker-')) workerProcesses++;
  for (const [k, v] of parts) into.set(k, (into.get(k) ?? 0) + v);
}
const workerSteps = STEPS * workers;
const perWorkerStep = (m: Map<string, number>, div: number) => {
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, { msPerWorkerStep: Number((v / div).toFixed(4)), share: Number((v / total).toFixed(4)) }]),
  );
};
const busy = (m: Map<string, number>) => [...m].filter(([k]) => !k.startsWith('idle') && !k.startsWith('start-up')).reduce((a, [, v]) => a + v, 0);
const gradient = workerMs.get('gradient: tfjs forward + backward') ?? 0;
// A ring all-reduce is 2(n - 1) hops per worker and step (send a chunk, receive one, add or copy
// it); samples do not say which hop they belong to, so this is the average hop.
const hopParts = ['ws: send (framing, socket writes)', 'ws: receive (socket reads, reassembly)', 'encode messages (wire codec)', 'decode messages (wire codec)', 'ring all-reduce: reduce arithmetic and chunking', 'transport and endpoints (routing, clocks)'];
const hopsPerWorkerStep = 2 * (workers - 1);
const perRingHopMs = hopParts.reduce((a, k) => a + (workerMs.get(k) ?? 0), 0) / workerSteps / hopsPerWorkerStep;
rmSync(work, { recursive: true, force: true });
writeResult('step-profile', {
  experiment: `experiments/quickstart.yaml over ws, ${workers} workers in ${workerProcesses} processes, ${STEPS} steps (${sets.join(', ')})`,
  wallSec,
  trainWallSecPerStep: summary.trainWallSec / STEPS,
  finalAccuracy: summary.finalAccuracy,
  workerBusyMsPerWorkerStep: busy(workerMs) / workerSteps,
  gradientMsPerWorkerStep: gradient / workerSteps,
  // The target: everything but the gradient itself is overhead.
  overheadToGradient: (busy(workerMs) - gradient) / gradient,
  hopsPerWorkerStep,
  perRingHopMs,
  workerProcesses: perWorkerStep(workerMs, workerSteps),
  coordinatorMsPerStep: perWorkerStep(coordinator, STEPS),
});
