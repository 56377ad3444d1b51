import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { delimiter, join } from 'node:path';
import type { LoadedConfig } from '../../config/types.ts';
import { UserError } from '../../util/user-error.ts';

/**
 * The Slurm launcher's plumbing: finding Slurm's commands, reading the allocation a run is in,
 * choosing the address other nodes reach the hub at, and starting the worker processes as the
 * tasks of one `srun` step. The coordinator and the sweep call these; nothing here knows about
 * training.
 */

export type Launcher = 'local' | 'slurm';

/** The full path of an executable on PATH, or null. */
export function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const d of (env['PATH'] ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Exit 2 with one line when a Slurm command the launcher needs is missing. */
export function requireSlurmCommands(what: string, cmds: string[], env: NodeJS.ProcessEnv = process.env): void {
  const missing = cmds.filter((c) => onPath(c, env) === null);
  if (missing.length > 0) {
    throw new UserError(`${what} --launcher slurm: ${missing.join(', ')} not found on the PATH (install Slurm's client commands or load its module)`);
  }
}

export interface SlurmAllocation {
  jobId: string;
  nodes: number;
  /** Tasks of the allocation (SLURM_NTASKS), when the allocation says. */
  tasks: number | null;
}

/** The allocation this process runs in; exit 2 outside one. */
export function slurmAllocation(env: NodeJS.ProcessEnv = process.env): SlurmAllocation {
  const jobId = env['SLURM_JOB_ID'] ?? env['SLURM_JOBID'];
  if (!jobId) {
    throw new UserError('run --launcher slurm: not inside a Slurm allocation (SLURM_JOB_ID is not set); start it from salloc or an sbatch script');
  }
  const n = (k: string) => {
    const v = Number(env[k]);
    return Number.isInteger(v) && v > 0 ? v : null;
  };
  return { jobId, nodes: n('SLURM_JOB_NUM_NODES') ?? n('SLURM_NNODES') ?? 1, tasks: n('SLURM_NTASKS') };
}

/** Everything `dtemu run --launcher slurm` needs before it creates the run directory. */
export function checkSlurmRun(lc: LoadedConfig, srunArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): SlurmAllocation {
  requireSlurmCommands('run', ['srun'], env);
  const alloc = slurmAllocation(env);
  const c = lc.config;
  if (c.transport.kind !== 'ws') {
    throw new UserError(`${lc.file}: transport.kind: expected ws with --launcher slurm (its workers are srun tasks), found ${c.transport.kind}`);
  }
  // A crash of the fault timeline ends its process, and srun (--kill-on-bad-exit) the whole step;
  // replacements are spawned by the local launcher only.
  if (lc.faults.some((f) => f.kind === 'crash')) {
    throw new UserError(`${lc.file}: faults: crash entries need the local launcher (a crashed srun task ends the step); found a crash with --launcher slurm`);
  }
  // srun would refuse the step only after the run directory exists: say it here, in one line.
  const processes = c.transport.processes ?? c.workers;
  if (alloc.tasks !== null && processes > alloc.tasks && !srunArgs.some((a) => /^(--overcommit|-O)$/.test(a))) {
    throw new UserError(
      `${lc.file}: transport.processes: ${processes} worker processes, but allocation ${alloc.jobId} has ${alloc.tasks} task(s); ask for --ntasks=${processes}, lower transport.processes, or pass --slurm-arg=--overcommit`,
    );
  }
  return alloc;
}

/** Exit 2 with one line when the partition does not exist on the cluster. */
export function checkPartition(partition: string): void {
  const r = spawnSync('sinfo', ['-h', '-o', '%R'], { encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`--partition ${partition}: cannot list the cluster's partitions (sinfo: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()})`);
  const known = [...new Set(r.stdout.split('\n').map((s) => s.trim()).filter(Boolean))];
  if (!known.includes(partition)) throw new UserError(`--partition ${partition}: no such Slurm partition (the cluster has: ${known.join(', ') || 'none'})`);
}

/**
 * The address worker tasks on other nodes reach the hub at: $DTEMU_HUB_HOST when set, else
 * this node's first non-loopback IPv4 address, else 127.0.0.1 (a one-node allocation).
 */
export function reachableAddress(env: NodeJS.ProcessEnv = process.env): string {
  const forced = env['DTEMU_HUB_HOST'];
  if (forced) return forced;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * This worker process's index when srun started it (the coordinator sets DTEMU_LAUNCHER=slurm
 * in the step's environment): SLURM_PROCID, so task i hosts the i-th block of logical workers.
 */
export function slurmProcessIndex(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env['DTEMU_LAUNCHER'] !== 'slurm') return undefined;
  const v = Number(env['SLURM_PROCID']);
  return Number.isInteger(v) && v >= 0 ? v : undefined;
}

export interface SrunWorkersOptions {
  bin: string;
  url: string;
  token: string;
  processes: number;
  /** Extra srun options from the command line (--slurm-arg). */
  extraArgs: string[];
  /** srun's stderr (task failures, worker errors), line by line. */
  onStderrLine: (line: string) => void;
}

/**
 * One job step of `processes` tasks, each a `dtemu worker --join URL`. The token travels in the
 * environment (srun --export=ALL), never on a command line. --kill-on-bad-exit ends the whole
 * step when one task dies; the step gets its own process group, so a Ctrl-C in the terminal
 * reaches only the coordinator, which then ends the step itself.
 */
export function srunWorkers(o: SrunWorkersOptions): ChildProcess {
  const args = [
    `--ntasks=${o.processes}`,
    '--kill-on-bad-exit=1',
    '--export=ALL',
    `--job-name=dtemu-workers`,
    ...o.extraArgs,
    process.execPath,
    o.bin,
    'worker',
    '--join',
    o.url,
  ];
  const child = spawn('srun', args, {
    env: { ...process.env, DTEMU_TOKEN: o.token, DTEMU_SPAWNED: '1', DTEMU_LAUNCHER: 'slurm' },
    stdio: ['ignore', 'inherit', 'pipe'],
    detached: true,
  });
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      o.onStderrLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  child.stderr!.on('end', () => {
    if (buf) o.onStderrLine(buf);
  });
  return child;
}

/**
 * The tasks srun reports as dead in a line like "srun: error: node1: task 1: Killed" or
 * "srun: error: node1: tasks 0-2,5: Exited with exit code 1": task index -> cause.
 */
export function srunTaskFailures(line: string): Map<number, string> {
  const out = new Map<number, string>();
  const m = /tasks? ([0-9][0-9,\-]*): (.+)$/.exec(line.trim());
  if (!m) return out;
  const cause = m[2]!.trim();
  for (const part of m[1]!.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let t = a; t <= (Number.isInteger(b) ? b! : a); t++) out.set(t, cause);
  }
  return out;
}

export interface SlurmWorkerStep {
  child: ChildProcess;
  /** What srun said about a task's death (by process index), for failure messages. */
  causeOf(index: number): string | undefined;
}

/**
 * Start the worker step and turn its end into the run's failure while the run is still on:
 * the message names the worker process srun reported dead (its logical workers come from the
 * hub's table), else srun's own last error line. Workers' own output passes through.
 */
export function launchSlurmWorkers(o: {
  bin: string;
  url: string;
  token: string;
  processes: number;
  extraArgs: string[];
  /** True once the coordinator is shutting down (the step's end is then expected). */
  over(): boolean;
  /** The hub's description of a joined process, or null if it never joined. */
  describe(index: number): string | null;
  fail(message: string): void;
}): SlurmWorkerStep {
  const causes = new Map<number, string>();
  let lastSrunError = '';
  const child = srunWorkers({
    bin: o.bin,
    url: o.url,
    token: o.token,
    processes: o.processes,
    extraArgs: o.extraArgs,
    onStderrLine: (line) => {
      if (!line.startsWith('srun:')) {
        process.stderr.write(line + '\n');
        return;
      }
      // srun's own notes on a step it is ending are noise once the coordinator stopped it.
      if (o.over()) return;
      for (const [t, why] of srunTaskFailures(line)) if (!causes.has(t)) causes.set(t, why);
      if (/error/i.test(line)) lastSrunError = line.replace(/^srun:\s*(error:\s*)?/, '');
    },
  });
  child.on('error', (e) => o.fail(`cannot start srun: ${e.message}`));
  child.on('exit', (code, signal) => {
    if (o.over()) return;
    const first = [...causes.keys()].sort((a, b) => a - b)[0];
    const named = first === undefined ? null : o.describe(first);
    if (named) return o.fail(named);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    o.fail(`the srun step of the worker processes ${how}${lastSrunError ? `: ${lastSrunError}` : ''}`);
  });
  return { child, causeOf: (i) => (causes.has(i) ? `ended (srun: task ${i}: ${causes.get(i)})` : undefined) };
}
