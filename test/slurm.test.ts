import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import WebSocket from 'ws';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { loadConfigText } from '../src/config/load.ts';
import { WsHub } from '../src/runtime/ws-hub.ts';
import { checkSlurmRun, reachableAddress, slurmProcessIndex, srunTaskFailures } from '../src/runtime/launchers/slurm.ts';
import { cpusOf, formatSweepStatus, prepareSweep, submitSlurmSweep, sweepStatus } from '../src/runtime/launchers/slurm-sweep.ts';
import { BIN, ROOT, deterministicMetrics, json, tmp } from './helpers/cli.ts';

// These run on a one-node Slurm cluster that scripts/slurm-local.sh starts (and installs, as
// root, from Debian's slurm-wlm and munge). Where it cannot start, the tests fail with its reason.
const SCRIPT = join(ROOT, 'scripts', 'slurm-local.sh');
const SLURM_DIR = process.env['DTEMU_SLURM_DIR'] ?? '/tmp/dtemu-slurm';
const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: join(SLURM_DIR, 'slurm.conf') };
// Outside an allocation: a test runner started from inside one must not leak its job.
for (const k of Object.keys(env)) if (k.startsWith('SLURM_') && k !== 'SLURM_CONF') delete env[k];

function sh(cmd: string, args: string[], timeoutMs = 60_000) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: timeoutMs, cwd: ROOT });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Run the CLI without blocking (so independent invocations overlap). */
function cli(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const e: NodeJS.ProcessEnv = { ...env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete e[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: e, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function until<T>(f: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const inQueue = (job: string) => sh('squeue', ['-h', '-j', job, '-o', '%i']).stdout.trim().length > 0;

function sbatch(args: string[]): string {
  const r = sh('sbatch', ['--parsable', ...args]);
  if (r.code !== 0) throw new Error(`sbatch ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split(';')[0]!;
}

/** Processes (any user) whose environment says they belong to Slurm job `job`. */
function processesOfJob(job: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(`SLURM_JOB_ID=${job}`)) out.push(Number(d));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

const SWEEP = `name: slurm-three
seed: 5
workers: 2
data: { dataset: blobs, samples: 1000, testSamples: 200, features: 8, classes: 3, batchSize: 16 }
model: { kind: mlp, hidden: [16] }
optimizer: { kind: compressed-sgd, lr: 0.05, compressor: { kind: topk, ratio: 0.1 } }
transport: { kind: inproc }
train: { steps: 40, evalEvery: 20 }
sweep:
  grid:
    optimizer.compressor: [{ kind: topk, ratio: 0.1 }, { kind: sign }, { kind: fp16 }]
`;

/** sweep.csv without the wall-clock column. */
function csvWithoutWall(file: string): string[][] {
  const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
  const wall = rows[0]!.indexOf('wallTimeSec');
  return rows.map((r) => r.filter((_, i) => i !== wall));
}

const QUICK = ['--set', 'transport.kind=ws', '--set', 'transport.processes=2', '--set', 'train.steps=20', '--set', 'train.evalEvery=10', '--quiet'];

describe('srun task failure lines', () => {
  it('name every task srun reports dead, with its cause', () => {
    expect([...srunTaskFailures('srun: error: node7: task 1: Killed')]).toEqual([[1, 'Killed']]);
    expect([...srunTaskFailures('srun: error: n1: tasks 0-2,5: Exited with exit code 1')]).toEqual([
      [0, 'Exited with exit code 1'],
      [1, 'Exited with exit code 1'],
      [2, 'Exited with exit code 1'],
      [5, 'Exited with exit code 1'],
    ]);
    expect(srunTaskFailures('srun: Job step aborted: Waiting up to 32 seconds for job step to finish.').size).toBe(0);
  });
});

describe('sweep status and CPUs per point (no cluster needed)', () => {
  it('reads done, failed (with its error line) and pending points from the run directories', async () => {
    const dir = tmp();
    const file = join(dir, 'three.yaml');
    writeFileSync(file, SWEEP);
    const out = join(dir, 'sweep');
    const prep = await prepareSweep(file, out);
    const [p0, p1] = prep.points;
    // Point 0: a complete run of its current config; point 1: a run that failed; point 2: nothing.
    mkdirSync(join(out, p0!.id), { recursive: true });
    writeFileSync(join(out, p0!.id, 'manifest.json'), JSON.stringify({ status: 'completed' }));
    writeFileSync(join(out, p0!.id, 'summary.json'), '{}');
    writeFileSync(join(out, p0!.id, 'config.yaml'), prep.configTexts.get(p0!.id)!);
    mkdirSync(join(out, p1!.id), { recursive: true });
    writeFileSync(join(out, p1!.id, 'manifest.json'), JSON.stringify({ status: 'failed', error: 'worker process 1 (pid 7 on n2, worker 1) ended (srun: task 1: Killed)' }));
    const { points } = await sweepStatus(file, out);
    expect(points.map((p) => [p.state, p.detail])).toEqual([
      ['done', ''],
      ['failed', 'worker process 1 (pid 7 on n2, worker 1) ended (srun: task 1: Killed)'],
      ['pending', 'not started'],
    ]);
    expect(formatSweepStatus(points).split('\n').pop()).toBe('1 done, 0 running, 1 pending, 1 failed');
    // A changed config makes the finished point pending again.
    writeFileSync(file, SWEEP.replace('steps: 40', 'steps: 41'));
    expect((await sweepStatus(file, out)).points[0]).toMatchObject({ state: 'pending', detail: 'config changed since its run' });
  });

  it('the hub gives an srun task the block of its SLURM_PROCID, whatever the join order, on a reachable address', async () => {
    const lc = loadConfigText('t.yaml', 'data: { dataset: blobs }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\nworkers: 4\n');
    const host = reachableAddress({});
    const hub = new WsHub({ host, port: 0, token: 'tok', maxPayload: 1 << 20, lc, rankSets: [[0, 1], [2, 3]], heartbeatTimeoutSec: 5, local: new InprocRouter(), onReport: () => {}, onFailure: () => {} });
    const port = await hub.listen();
    expect(hub.boundAddress).toBe(host);
    const hello = (process?: number) =>
      new Promise<{ t: string; ranks?: number[]; process?: number; reason?: string }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${host}:${port}`);
        ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', token: 'tok', pid: 1, host: 'h', ...(process === undefined ? {} : { process }) })));
        ws.on('message', (d) => resolve(JSON.parse(String(d))));
        ws.on('error', reject);
      });
    // Task 1 joins first, then task 0; a second "task 1" is refused.
    expect(await hello(1)).toMatchObject({ t: 'init', ranks: [2, 3], process: 1 });
    expect(await hello(0)).toMatchObject({ t: 'init', ranks: [0, 1], process: 0 });
    expect((await hello(1)).t).toBe('refused');
    expect(slurmProcessIndex({ DTEMU_LAUNCHER: 'slurm', SLURM_PROCID: '3' })).toBe(3);
    expect(slurmProcessIndex({ SLURM_PROCID: '3' })).toBeUndefined();
    await hub.close();
  });

  it('asks for one CPU per worker process (1 in process)', () => {
    const q = join(ROOT, 'experiments/quickstart.yaml');
    expect(cpusOf(loadConfig(q, { sets: ['transport.kind=inproc'] }))).toBe(1);
    expect(cpusOf(loadConfig(q, { sets: ['transport.kind=ws'] }))).toBe(4);
    expect(cpusOf(loadConfig(q, { sets: ['transport.kind=ws', 'transport.processes=2'] }))).toBe(2);
  });
});

describe('Slurm launcher (one-node cluster)', () => {
  beforeAll(() => {
    // squeue and sbatch called from this process (status, collect) find the cluster too.
    process.env['SLURM_CONF'] = env['SLURM_CONF'];
    const r = sh('bash', [SCRIPT, 'start'], 600_000);
    if (r.code !== 0) throw new Error(`the one-node Slurm cluster did not start (scripts/slurm-local.sh start, exit ${r.code}): ${(r.stderr || r.error?.message || '').trim()}`);
  }, 660_000);

  afterAll(() => {
    sh('bash', [SCRIPT, 'stop']);
  });

  it('bad input exits 2 with one line: no sbatch on the PATH, run outside an allocation, unknown partition, too few tasks', async () => {
    const dir = tmp();
    const file = join(dir, 'three.yaml');
    writeFileSync(file, SWEEP);
    const [noSlurm, outside, partition] = await Promise.all([
      cli(['sweep', file, '--out', join(dir, 'a'), '--launcher', 'slurm'], { PATH: '/nonexistent' }),
      cli(['run', 'experiments/quickstart.yaml', '--out', join(dir, 'b'), '--launcher', 'slurm', ...QUICK]),
      cli(['sweep', file, '--out', join(dir, 'c'), '--launcher', 'slurm', '--partition', 'nope']),
    ]);
    expect(noSlurm.code, noSlurm.stderr).toBe(2);
    expect(noSlurm.stderr.trim().split('\n')).toEqual(["dtemu: sweep --launcher slurm: sbatch, squeue, sinfo not found on the PATH (install Slurm's client commands or load its module)"]);
    expect(outside.code, outside.stderr).toBe(2);
    expect(outside.stderr.trim().split('\n')).toEqual(['dtemu: run --launcher slurm: not inside a Slurm allocation (SLURM_JOB_ID is not set); start it from salloc or an sbatch script']);
    expect(partition.code, partition.stderr).toBe(2);
    expect(partition.stderr.trim().split('\n')).toEqual(['dtemu: --partition nope: no such Slurm partition (the cluster has: debug)']);
    for (const d of ['a', 'b', 'c']) expect(existsSync(join(dir, d))).toBe(false);
    // srun missing, and an allocation with fewer tasks than worker processes (the same check
    // the CLI runs before it creates anything).
    const lc = loadConfig(join(ROOT, 'experiments/quickstart.yaml'), { sets: ['transport.kind=ws', 'transport.processes=2'] });
    expect(() => checkSlurmRun(lc, [], { ...env, PATH: '/nonexistent', SLURM_JOB_ID: '9' })).toThrow(/^run --launcher slurm: srun not found on the PATH/);
    expect(() => checkSlurmRun(lc, [], { ...env, SLURM_JOB_ID: '999', SLURM_NTASKS: '1' })).toThrow(
      /transport.processes: 2 worker processes, but allocation 999 has 1 task\(s\); ask for --ntasks=2, lower transport.processes, or pass --slurm-arg=--overcommit$/,
    );
    expect(checkSlurmRun(lc, ['--overcommit'], { ...env, SLURM_JOB_ID: '999', SLURM_NTASKS: '1', SLURM_JOB_NUM_NODES: '1' })).toEqual({ jobId: '999', nodes: 1, tasks: 1 });
    expect(() => checkSlurmRun(loadConfig(join(ROOT, 'experiments/quickstart.yaml'), { sets: ['transport.kind=inproc'] }), [], { ...env, SLURM_JOB_ID: '9' })).toThrow(/transport.kind: expected ws with --launcher slurm/);
  });

  it('a 3-point sweep through the job array: cancelled midway, resubmitted, it runs only the unfinished points and gives the local sweep.csv and metrics', async () => {
    const dir = tmp();
    const file = join(dir, 'three.yaml');
    writeFileSync(file, SWEEP);
    const out = join(dir, 'slurm-sweep');
    // The same sweep with the local launcher, meanwhile: the reference for sweep.csv and metrics.
    const local = join(dir, 'local-sweep');
    // --set applies to every point, and reaches the array tasks and the collect job too.
    const SET = ['--set', 'train.steps=30'];
    const localDone = cli(['sweep', file, '--out', local, '--quiet', ...SET]);

    // One array task at a time, so the cancel finds point 0 done and the others not.
    const sub = await cli(['sweep', file, '--out', out, '--launcher', 'slurm', '--parallel', '1', ...SET]);
    expect(sub.code, sub.stderr).toBe(0);
    const first = json<{ arrays: { jobId: string; points: number[]; cpus: number }[]; collect: string }>(join(out, 'slurm', 'jobs.jsonl'));
    expect(first.arrays).toEqual([{ jobId: expect.any(String), points: [0, 1, 2], cpus: 1 }]);
    expect(first.collect).toMatch(/^\d+$/);
    const summary0 = join(out, '001_compressor=topk(0.1)', 'summary.json');
    await until(() => existsSync(summary0), 90_000, 'point 0 of the array');
    expect(sh('scancel', [first.arrays[0]!.jobId, first.collect]).code).toBe(0);
    await until(() => !inQueue(first.arrays[0]!.jobId) && !inQueue(first.collect), 30_000, 'the cancelled jobs to leave the queue');
    const mtime0 = statSync(summary0).mtimeMs;

    // What `dtemu sweep --status` prints (in this process: a CLI start costs more than the check).
    const status = await sweepStatus(file, out, ['train.steps=30']);
    const table = formatSweepStatus(status.points);
    expect(status.points.map((p) => p.job)).toEqual([0, 1, 2].map((i) => `${first.arrays[0]!.jobId}_${i}`));
    expect(status.points[0]!.state, table).toBe('done');
    // Cancelled before or while running: pending (never started) or failed (with its last line).
    for (const p of status.points.slice(1)) expect(['pending', 'failed', 'done'], table).toContain(p.state);
    expect(status.points.some((p) => p.state !== 'done'), table).toBe(true);
    expect(table.split('\n')[1]).toMatch(/^0 {2}compressor=topk\(0\.1\) {2}done +\d+_0$/);

    // Resubmitted: only the unfinished points, and the dependent collect job writes sweep.csv.
    const again = await cli(['sweep', file, '--out', out, '--launcher', 'slurm', ...SET]);
    expect(again.code, again.stderr).toBe(0);
    const subs = () => readFileSync(join(out, 'slurm', 'jobs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { arrays: { points: number[] }[]; collect: string });
    expect(subs()).toHaveLength(2);
    const rerun = subs()[1]!.arrays.flatMap((a) => a.points);
    expect(rerun).not.toContain(0);
    expect(rerun).toContain(2);
    await until(() => !inQueue(subs()[1]!.collect), 120_000, 'the collect job');
    expect(statSync(summary0).mtimeMs).toBe(mtime0);
    expect(readFileSync(join(out, 'slurm', 'collect.log'), 'utf8')).toBe('');
    // Everything done: a resubmission submits nothing and collects at once.
    const done = await submitSlurmSweep(file, { outDir: out, wait: true, sets: ['train.steps=30'] });
    expect(done.submission).toBeNull();
    expect(done.rows!.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(subs()).toHaveLength(2);

    // The same sweep with the local launcher: identical sweep.csv (but wall time) and metrics.
    const l = await localDone;
    expect(l.code, l.stderr).toBe(0);
    expect(csvWithoutWall(join(out, 'sweep.csv'))).toEqual(csvWithoutWall(join(local, 'sweep.csv')));
    for (const d of readdirSync(local).filter((x) => /^\d{3}_/.test(x))) expect(deterministicMetrics(join(out, d))).toEqual(deterministicMetrics(join(local, d)));
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('003_compressor=fp16');
    expect(deterministicMetrics(join(out, '003_compressor=fp16')).filter((m) => m['kind'] === 'train').map((m) => m['step'])).toHaveLength(30);
  }, 300_000);

  it('a 4-worker quickstart in an sbatch job: 2 srun tasks of 2 logical workers, metrics identical to the local ws run', async () => {
    const dir = tmp();
    const slurmRun = join(dir, 'slurm');
    const log = join(dir, 'job.log');
    const job = sbatch(['--ntasks=2', `--output=${log}`, `--chdir=${ROOT}`, '--wrap', `'${process.execPath}' '${BIN}' run experiments/quickstart.yaml --launcher slurm --out '${slurmRun}' ${QUICK.join(' ')}`]);
    const local = join(dir, 'local');
    const l = await cli(['run', 'experiments/quickstart.yaml', '--out', local, ...QUICK]);
    expect(l.code, l.stderr).toBe(0);
    await until(() => !inQueue(job), 120_000, 'the sbatch job');
    const m = json<{ status: string; processes: { index: number; ranks: number[]; pid: number }[] }>(join(slurmRun, 'manifest.json'));
    expect(m.status, readFileSync(log, 'utf8')).toBe('completed');
    expect(m.processes.map((p) => [p.index, p.ranks]).sort()).toEqual([
      [0, [0, 1]],
      [1, [2, 3]],
    ]);
    expect(deterministicMetrics(slurmRun)).toEqual(deterministicMetrics(local));
    expect(deterministicMetrics(slurmRun).filter((x) => x['kind'] === 'eval')).toHaveLength(2);
  });

  it('a worker step killed with scancel --signal=KILL stops the run within 10 s, names the worker, leaves no process', async () => {
    const dir = tmp();
    const run = join(dir, 'run');
    const log = join(dir, 'job.log');
    const job = sbatch(['--ntasks=2', `--output=${log}`, `--chdir=${ROOT}`, '--wrap', `'${process.execPath}' '${BIN}' run experiments/quickstart.yaml --launcher slurm --out '${run}' ${QUICK.join(' ')} --set train.steps=100000`]);
    await until(() => existsSync(join(run, 'metrics.jsonl')) && readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').length > 5, 90_000, 'training under Slurm');
    const killedAt = Date.now();
    expect(sh('scancel', ['--signal=KILL', `${job}.0`]).code).toBe(0);
    await until(() => !inQueue(job), 15_000, 'the job to end');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const text = readFileSync(log, 'utf8').trim();
    // Named by index, pid, node and logical workers; with srun's cause when it reported before the
    // hub saw the connection drop.
    expect(text).toMatch(/^dtemu: worker process [01] \(pid \d+ on [^,]+, workers (0,1|2,3)\)( ended \(srun: task [01]: Killed\)| disconnected)/m);
    expect(text.split('\n').filter((l) => l.startsWith('dtemu:'))).toHaveLength(1);
    const m = json<{ status: string; error: string }>(join(run, 'manifest.json'));
    expect(m.status).toBe('failed');
    expect(m.error).toMatch(/^worker process [01] /);
    // Give slurmd a moment to reap, then: nothing of the job is left.
    await until(() => processesOfJob(job).length === 0, 5_000, 'the job\'s processes to be gone');
  });
});
