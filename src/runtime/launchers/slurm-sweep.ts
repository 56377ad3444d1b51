import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../../config/types.ts';
import type { Summary } from '../../metrics/summary.ts';
import { loadConfig } from '../../config/load.ts';
import { RunError, UserError } from '../../util/user-error.ts';
import { runExperiment } from '../coordinator.ts';
import { prepareOutputDir } from '../../metrics/run-dir.ts';
import { checkSweep, isComplete, writeSweepOutputs, type SweepPoint, type SweepRow } from '../sweep.ts';
import { checkPartition, requireSlurmCommands } from './slurm.ts';
import { DTEMU_BIN } from '../../util/package-root.ts';

/**
 * `dtemu sweep FILE --launcher slurm`: the sweep directory is written here, every pending point
 * becomes one task of a Slurm job array (`dtemu sweep FILE --point I` on a node), and a final job
 * that depends on the arrays (or the submitting command, with --wait) writes sweep.csv, the
 * overlays and the report from the run directories. Which jobs ran which points is kept in
 * DIR/slurm/jobs.jsonl, so `--status` and a resubmission know what is still queued.
 */


export interface PreparedSweep {
  base: LoadedConfig;
  points: SweepPoint[];
  /** Each point's resolved config text (what a complete run of it must have). */
  configTexts: Map<string, string>;
  /** Absolute sweep directory (not created here). */
  dir: string;
  /** `--set` overrides applied to every point. */
  sets: string[];
}

/** Every point validated (exit 2 on a bad one, before anything is written), and the sweep directory. */
export async function prepareSweep(file: string, outDir: string | undefined, sets: string[] = []): Promise<PreparedSweep> {
  const { base, points, configTexts } = await checkSweep(file, sets);
  const dir = resolve(outDir ?? join('runs', `${base.config.name}-sweep`));
  return { base, points, configTexts, dir, sets };
}

export interface SlurmSweepOptions {
  outDir?: string;
  partition?: string;
  time?: string;
  /** `--set` overrides applied to every point. */
  sets?: string[];
  /** Extra sbatch options, passed as they are. */
  slurmArgs?: string[];
  /** Wait for the arrays and collect here instead of submitting a dependent collect job. */
  wait?: boolean;
  /** At most this many array tasks at once (sbatch --array=...%N). */
  parallel?: number;
  onInfo?: (msg: string) => void;
}

interface Submission {
  submittedAt: string;
  arrays: { jobId: string; points: number[]; cpus: number }[];
  collect: string | null;
}

export type PointState = 'pending' | 'running' | 'done' | 'failed';

export interface PointStatus {
  index: number;
  id: string;
  label: string;
  state: PointState;
  /** Slurm job (array job _ task) that ran or will run it, if any. */
  job: string | null;
  /** For failed points: the last error line. */
  detail: string;
}

/** Worker processes a point runs (the CPUs its array task asks for): 1 in process. */
export function cpusOf(lc: LoadedConfig): number {
  const c = lc.config;
  return c.transport.kind === 'ws' ? (c.transport.processes ?? c.workers) : 1;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function slurmDir(dir: string): string {
  return join(dir, 'slurm');
}

function readSubmissions(dir: string): Submission[] {
  const f = join(slurmDir(dir), 'jobs.jsonl');
  if (!existsSync(f)) return [];
  const out: Submission[] = [];
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const s = JSON.parse(line) as Submission;
      if (Array.isArray(s.arrays)) out.push(s);
    } catch {
      /* a torn line from an interrupted write: ignore it */
    }
  }
  return out;
}

/** Jobs still known to the scheduler: "arrayJob_task" (or "job") -> state, e.g. RUNNING. */
function queued(jobIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (jobIds.length === 0) return out;
  // squeue errors on ids it already forgot: ask one at a time so one purged id hides nothing.
  for (const id of jobIds) {
    const r = spawnSync('squeue', ['-h', '-r', '-j', id, '-o', '%F|%K|%T'], { encoding: 'utf8' });
    if (r.status !== 0) {
      // A job the controller already purged is simply over; anything else (controller down) is not an answer.
      if (/invalid job id/i.test(r.stderr ?? '')) continue;
      throw new RunError(`squeue -j ${id} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()}`);
    }
    for (const line of r.stdout.split('\n')) {
      const [job, task, state] = line.trim().split('|');
      if (!job || !state) continue;
      out.set(task && task !== 'N/A' ? `${job}_${task}` : job, state);
    }
  }
  return out;
}

function sbatch(args: string[], what: string): string {
  const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()!.replace(/^sbatch:\s*(error:\s*)?/, '');
    // sbatch refuses bad options and impossible requests: the user's input.
    throw new UserError(`sweep --launcher slurm: sbatch refused the ${what}: ${why}`);
  }
  return r.stdout.trim().split(';')[0]!;
}

/** Submit the pending points of a sweep as job arrays (one per CPU count) and the collect job. */
export async function submitSlurmSweep(file: string, o: SlurmSweepOptions = {}): Promise<{ dir: string; submission: Submission | null; rows: SweepRow[] | null }> {
  requireSlurmCommands('sweep', ['sbatch', 'squeue', 'sinfo']);
  if (o.partition !== undefined) checkPartition(o.partition);
  const prep = await prepareSweep(file, o.outDir, o.sets);
  const { dir, points, configTexts } = prep;
  const active = [...queued(readSubmissions(dir).flatMap((s) => [...s.arrays.map((a) => a.jobId), ...(s.collect ? [s.collect] : [])])).keys()];
  if (active.length > 0) {
    throw new UserError(`sweep ${dir}: jobs ${active.join(', ')} of an earlier submission are still queued or running; wait for them or scancel them first`);
  }
  prepareOutputDir(dir, o.outDir ? `--out ${o.outDir}` : dir);
  mkdirSync(slurmDir(dir), { recursive: true });
  const absFile = resolve(file);
  // The tasks and the collect job see the same --set overrides as this command.
  const setArgs = prep.sets.map((x) => `--set ${shellQuote(x)}`).join(' ');
  const common = [...(o.partition ? [`--partition=${o.partition}`] : []), ...(o.time ? [`--time=${o.time}`] : []), ...(o.slurmArgs ?? [])];
  const pending = points.map((p, i) => ({ p, i })).filter(({ p }) => !isComplete(join(dir, p.id), configTexts.get(p.id)));
  if (pending.length === 0) {
    o.onInfo?.(`every point of ${dir} is complete; collecting`);
    return { dir, submission: null, rows: collectSweepRows(prep, true) };
  }
  const script = (name: string, args: string) => {
    const f = join(slurmDir(dir), name);
    writeFileSync(f, `#!/bin/sh\n# Written by dtemu sweep --launcher slurm.\ncd ${shellQuote(process.cwd())} || exit 1\nexec ${shellQuote(process.execPath)} ${shellQuote(DTEMU_BIN)} sweep ${shellQuote(absFile)} --out ${shellQuote(dir)}${setArgs ? ` ${setArgs}` : ''} ${args}\n`, { mode: 0o755 });
    return f;
  };
  const pointScript = script('point.sh', '--point "$SLURM_ARRAY_TASK_ID" --quiet');
  const byCpus = new Map<number, number[]>();
  for (const { p, i } of pending) {
    const cpus = cpusOf(loadConfig(file, { sets: [...prep.sets, ...p.sets] }));
    byCpus.set(cpus, [...(byCpus.get(cpus) ?? []), i]);
  }
  const submission: Submission = { submittedAt: new Date().toISOString(), arrays: [], collect: null };
  const record = () => appendFileSync(join(slurmDir(dir), 'jobs.jsonl'), JSON.stringify(submission) + '\n');
  const name = `dtemu-sweep-${prep.base.config.name}`;
  try {
    for (const [cpus, idx] of byCpus) {
      const jobId = sbatch(
        [
          `--array=${idx.join(',')}${o.parallel ? `%${o.parallel}` : ''}`,
          `--cpus-per-task=${cpus}`,
          `--ntasks=1`,
          `--job-name=${name}`,
          `--output=${join(slurmDir(dir), 'point-%a.log')}`,
          ...common,
          pointScript,
        ],
        `array of ${idx.length} point(s)`,
      );
      submission.arrays.push({ jobId, points: idx, cpus });
    }
    if (!o.wait) {
      const collectScript = script('collect.sh', '--collect --quiet');
      submission.collect = sbatch(
        [
          `--dependency=afterany:${submission.arrays.map((a) => a.jobId).join(':')}`,
          '--kill-on-invalid-dep=yes',
          '--ntasks=1',
          '--cpus-per-task=1',
          `--job-name=${name}-collect`,
          `--output=${join(slurmDir(dir), 'collect.log')}`,
          ...common,
          collectScript,
        ],
        'collect job',
      );
    }
  } finally {
    // Whatever was submitted is recorded, even if a later sbatch failed.
    if (submission.arrays.length > 0) record();
  }
  for (const a of submission.arrays) o.onInfo?.(`submitted job array ${a.jobId}: points ${a.points.join(',')} (${a.cpus} CPU${a.cpus > 1 ? 's' : ''} each)`);
  if (submission.collect) o.onInfo?.(`submitted collect job ${submission.collect} (after the arrays): sweep.csv, plots and report.html in ${dir}`);
  if (!o.wait) return { dir, submission, rows: null };
  const ids = submission.arrays.map((a) => a.jobId);
  while (queued(ids).size > 0) await new Promise((r) => setTimeout(r, 500));
  return { dir, submission, rows: collectSweepRows(prep, true) };
}

/**
 * The array task's work: run point `index` of the sweep, unless its run directory already holds
 * a complete run of this exact config. The run happens in this process (an array task is a
 * process of its own; a child `dtemu run` would only add a second start-up), through the same
 * runExperiment as `dtemu run`, so its metrics are those of the local sweep.
 */
export async function runSweepPointByIndex(file: string, outDir: string | undefined, index: number, sets: string[] = []): Promise<SweepRow> {
  const prep = await prepareSweep(file, outDir, sets);
  const p = prep.points[index];
  if (!p) throw new UserError(`sweep --point ${index}: expected 0..${prep.points.length - 1} (${file} has ${prep.points.length} points)`);
  const runDir = join(prep.dir, p.id);
  const summaryOf = () => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary;
  if (isComplete(runDir, prep.configTexts.get(p.id))) return { point: p, status: 'skipped (done before)', summary: summaryOf() };
  mkdirSync(prep.dir, { recursive: true });
  rmSync(runDir, { recursive: true, force: true });
  let abort: ((reason: string, exitCode: number) => void) | null = null;
  // scancel (and a time limit) send SIGTERM first: the run records itself as interrupted.
  const onTerm = () => abort?.(`terminated (SIGTERM, e.g. scancel or the time limit); rerun the sweep to complete it`, 143);
  process.on('SIGTERM', onTerm);
  try {
    await runExperiment(loadConfig(file, { sets: [...sets, ...p.sets] }), { outDir: runDir, onAbortHook: (a) => (abort = a) });
    return { point: p, status: 'completed', summary: summaryOf() };
  } catch (e) {
    if (e instanceof UserError || e instanceof RunError) return { point: p, status: 'failed', summary: null, error: e.message };
    throw e;
  } finally {
    process.off('SIGTERM', onTerm);
  }
}

/** The last non-empty line of a file, or ''. */
function lastLine(f: string): string {
  try {
    return readFileSync(f, 'utf8').trim().split('\n').filter((l) => l.trim()).pop() ?? '';
  } catch {
    return '';
  }
}

function failureOf(dir: string, id: string, index: number): string {
  try {
    const m = JSON.parse(readFileSync(join(dir, id, 'manifest.json'), 'utf8')) as { status?: string; error?: string };
    if (m.error) return m.error;
    if (m.status === 'running') return lastLine(join(slurmDir(dir), `point-${index}.log`)) || 'the run ended without finishing (killed?)';
  } catch {
    /* no manifest: the log says why */
  }
  return lastLine(join(slurmDir(dir), `point-${index}.log`)) || 'not run';
}

/** Rows from the run directories (complete -> completed, else failed with its last error line). */
function collectSweepRows(prep: PreparedSweep, write: boolean): SweepRow[] {
  const rows: SweepRow[] = prep.points.map((p, i) => {
    const runDir = join(prep.dir, p.id);
    if (isComplete(runDir, prep.configTexts.get(p.id))) return { point: p, status: 'completed', summary: JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary };
    return { point: p, status: 'failed', summary: null, error: failureOf(prep.dir, p.id, i) };
  });
  if (write) writeSweepOutputs(prep.dir, rows);
  return rows;
}

/** `dtemu sweep FILE --collect`: sweep.csv, overlays and report from what the points left. */
export async function collectSweep(file: string, outDir?: string, sets: string[] = []): Promise<{ dir: string; rows: SweepRow[] }> {
  const prep = await prepareSweep(file, outDir, sets);
  if (!existsSync(prep.dir)) throw new UserError(`sweep --collect: ${prep.dir} does not exist (nothing was run)`);
  return { dir: prep.dir, rows: collectSweepRows(prep, true) };
}

/** `dtemu sweep FILE --status`: each point's state from its run directory and the queue. */
export async function sweepStatus(file: string, outDir?: string, sets: string[] = []): Promise<{ dir: string; points: PointStatus[] }> {
  const prep = await prepareSweep(file, outDir, sets);
  const subs = readSubmissions(prep.dir);
  // The latest submission that included a point is the one that decides its job.
  const jobOf = new Map<number, string>();
  for (const s of subs) for (const a of s.arrays) for (const i of a.points) jobOf.set(i, `${a.jobId}_${i}`);
  const slurmKnown = subs.length > 0 && spawnSync('squeue', ['--version'], { encoding: 'utf8' }).status === 0;
  let q = new Map<string, string>();
  try {
    if (slurmKnown) q = queued([...new Set(subs.flatMap((s) => s.arrays.map((a) => a.jobId)))]);
  } catch {
    // The controller is unreachable: the run directories still tell done and failed points.
  }
  const points = prep.points.map((p, i): PointStatus => {
    const runDir = join(prep.dir, p.id);
    const job = jobOf.get(i) ?? null;
    const base = { index: i, id: p.id, label: p.label, job };
    if (isComplete(runDir, prep.configTexts.get(p.id))) return { ...base, state: 'done', detail: '' };
    const inQueue = job ? q.get(job) : undefined;
    if (inQueue) return { ...base, state: /PENDING|CONFIGURING/.test(inQueue) ? 'pending' : 'running', detail: inQueue.toLowerCase() };
    let status: string | undefined;
    try {
      status = (JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as { status?: string }).status;
    } catch {
      status = undefined;
    }
    // Finished, but for a config the point no longer resolves to: it runs again on resubmission.
    if (status === 'completed') return { ...base, state: 'pending', detail: 'config changed since its run' };
    // A local sweep's run in progress (no Slurm job for it): its manifest says running.
    if (status === 'running' && !job) return { ...base, state: 'running', detail: '' };
    if (status !== undefined || (job && existsSync(join(slurmDir(prep.dir), `point-${i}.log`)))) return { ...base, state: 'failed', detail: failureOf(prep.dir, p.id, i) };
    return { ...base, state: 'pending', detail: existsSync(runDir) ? '' : 'not started' };
  });
  return { dir: prep.dir, points };
}

export function formatSweepStatus(points: PointStatus[]): string {
  const head = ['#', 'point', 'state', 'job', 'detail'];
  const body = points.map((p) => [String(p.index), p.label, p.state, p.job ?? '-', p.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const counts = (['done', 'running', 'pending', 'failed'] as const).map((s) => `${points.filter((p) => p.state === s).length} ${s}`).join(', ');
  return [fmt(head), ...body.map(fmt), counts].join('\n');
}

