import { formatSweepTable, type SweepRow } from '../runtime/sweep.ts';
import { collectSweep, formatSweepStatus, runSweepPointByIndex, submitSlurmSweep, sweepStatus } from '../runtime/launchers/slurm-sweep.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { integerFlag } from './flags.ts';

/** The `dtemu sweep` options of the Slurm launcher, the status view and the array task's entry. */
export const SLURM_SWEEP_OPTIONS = {
  launcher: { choices: ['local', 'slurm'] as const, describe: 'where the points run (slurm: one job-array task per pending point)' },
  partition: { type: 'string', describe: 'Slurm partition (--launcher slurm)' },
  time: { type: 'string', describe: 'time limit of each array task, as sbatch --time takes it' },
  'slurm-arg': { type: 'string', array: true, nargs: 1, describe: 'extra sbatch option (repeatable), e.g. --slurm-arg=--account=abc' },
  wait: { type: 'boolean', describe: 'with --launcher slurm: wait for the array and collect here instead of a dependent job' },
  status: { type: 'boolean', describe: "show each point's state (pending, running, done, failed) and exit" },
  point: { type: 'string', describe: 'run only point N (0-based; what each array task runs)' },
  collect: { type: 'boolean', describe: 'write sweep.csv, plots and report from the run directories (the collect job)' },
} as const;

interface SweepArgs {
  file: string;
  out?: string;
  quiet?: boolean;
  parallel?: string;
  set?: string[];
  launcher?: 'local' | 'slurm';
  partition?: string;
  time?: string;
  slurmArg?: string[];
  wait?: boolean;
  status?: boolean;
  point?: string;
  collect?: boolean;
}

function failedCount(rows: SweepRow[]): void {
  const n = rows.filter((r) => r.status === 'failed').length;
  if (n > 0) throw new RunError(`${n} run(s) of the sweep failed; see sweep.csv`);
}

/** Handles the Slurm / status / array-task forms of `dtemu sweep`; false for a plain local sweep. */
export async function slurmSweepCommand(raw: unknown): Promise<boolean> {
  const a = raw as SweepArgs;
  const out = a.out;
  const sets = a.set ?? [];
  const say = (m: string) => {
    if (!a.quiet) process.stderr.write(m + '\n');
  };
  const modes = [a.status, a.point !== undefined, a.collect].filter(Boolean).length;
  if (modes > 1) throw new UserError('sweep: --status, --point and --collect exclude each other');
  if (a.launcher !== 'slurm' && (a.partition !== undefined || a.time !== undefined || a.slurmArg !== undefined || a.wait)) {
    throw new UserError('sweep: --partition, --time, --slurm-arg and --wait need --launcher slurm');
  }
  if (a.status) {
    const { dir, points } = await sweepStatus(a.file, out, sets);
    process.stdout.write(`${dir}\n${formatSweepStatus(points)}\n`);
    return true;
  }
  const point = integerFlag('--point', a.point, 0);
  if (point !== undefined) {
    const row = await runSweepPointByIndex(a.file, out, point, sets);
    say(`${row.point.label}: ${row.status}${row.error ? ` (${row.error})` : ''}`);
    if (row.status === 'failed') throw new RunError(`sweep point ${point} (${row.point.label}) failed: ${row.error ?? 'no error line'}`);
    return true;
  }
  if (a.collect) {
    const { dir, rows } = await collectSweep(a.file, out, sets);
    if (!a.quiet) process.stdout.write(`${formatSweepTable(rows)}\nresults in ${dir} (sweep.csv, plots/)\n`);
    failedCount(rows);
    return true;
  }
  if (a.launcher !== 'slurm') return false;
  const parallel = integerFlag('--parallel', a.parallel, 1);
  const { dir, rows } = await submitSlurmSweep(a.file, {
    ...(out ? { outDir: out } : {}),
    ...(a.partition !== undefined ? { partition: a.partition } : {}),
    ...(a.time !== undefined ? { time: a.time } : {}),
    ...(parallel !== undefined ? { parallel } : {}),
    sets,
    slurmArgs: a.slurmArg ?? [],
    wait: a.wait === true,
    onInfo: say,
  });
  if (rows) {
    if (!a.quiet) process.stdout.write(`${formatSweepTable(rows)}\nresults in ${dir} (sweep.csv, plots/)\n`);
    failedCount(rows);
  } else if (!a.quiet) {
    process.stdout.write(`submitted; follow it with: dtemu sweep ${a.file}${out ? ` --out ${out}` : ''} --status\n`);
  }
  return true;
}
