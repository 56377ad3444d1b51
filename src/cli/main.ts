import { SingleBar } from 'cli-progress';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../config/load.ts';
import { withGeneratedFaults } from '../runtime/fault-program.ts';
import { resolvePlugins } from '../config/plugins.ts';
import type { MetricsLine } from '../metrics/aggregator.ts';
import { plotOverlay, readMetrics, type XAxis, type YAxis } from '../plot/run-plots.ts';
import { runExperiment } from '../runtime/coordinator.ts';
import { formatSweepTable, runSweep } from '../runtime/sweep.ts';
import { runWorkerProcess } from '../runtime/worker-process.ts';
import { fetchData } from './data-fetch.ts';
import { RunError, UserError } from '../util/user-error.ts';

const debug = process.argv.includes('--debug');

function fail(e: unknown): never {
  if (e instanceof UserError || e instanceof RunError) {
    process.stderr.write(`dtemu: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(e.exitCode);
  }
  process.stderr.write(`dtemu: internal error: ${(e as Error).message ?? String(e)}\n`);
  if (debug) process.stderr.write(((e as Error).stack ?? '') + '\n');
  else process.stderr.write('dtemu: rerun with --debug for the stack trace\n');
  process.exit(1);
}

/** A number for humans; NaN/Infinity (a diverged run) arrive as null through JSON. */
function num(v: number | null | undefined, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

function fmtLine(l: MetricsLine): string {
  if (l.kind === 'eval') {
    const acc = l.evalAccuracy === null ? '' : ` acc ${num(100 * l.evalAccuracy, 2)}%`;
    return `step ${l.step}: test loss ${num(l.evalLoss, 4)}${acc}, sim ${num(l.simTimeSec, 3)} s, ${num(l.bits / 8 / 1e6, 1)} MB sent`;
  }
  return '';
}

// Last resort: a bug must still end in one line and a non-zero exit, not a dump.
process.on('uncaughtException', (e) => fail(e));
process.on('unhandledRejection', (e) => fail(e));

async function cmdRun(argv: { file: string; out?: string; set?: string[]; seed?: number; quiet?: boolean }): Promise<void> {
  const lc = loadConfig(argv.file, { sets: argv.set ?? [], seed: argv.seed });
  let outDir = argv.out ? resolve(argv.out) : `runs/${lc.config.name}-<time>`;
  const quiet = argv.quiet === true;
  const tty = process.stderr.isTTY && !quiet;
  const bar = tty ? new SingleBar({ format: 'training [{bar}] {value}/{total} steps | {info}', hideCursor: true, clearOnComplete: true }) : null;
  bar?.start(lc.config.train.steps, 0, { info: 'starting workers' });
  let lastInfo = '';
  let abort: ((reason: string, exitCode: number) => void) | null = null;
  const onSigint = () => abort?.('interrupted (Ctrl-C); metrics so far are in ' + outDir, 130);
  const onSigterm = () => abort?.('terminated (SIGTERM); metrics so far are in ' + outDir, 143);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const { summary, dir } = await runExperiment(lc, {
      ...(argv.out ? { outDir } : {}),
      onDir: (d) => (outDir = d),
      onLine: (l) => {
        // Progress only on a terminal; piped output stays quiet until the summary line.
        if (l.kind === 'train') bar?.update(l.step, { info: lastInfo });
        else lastInfo = fmtLine(l);
      },
      onInfo: (m) => process.stderr.write(m + '\n'),
      onAbortHook: (a) => (abort = a),
    });
    bar?.stop();
    if (!quiet) {
      const acc = summary.finalAccuracy === null ? 'n/a' : `${num(100 * summary.finalAccuracy, 2)}%`;
      process.stdout.write(
        `${summary.name}: ${summary.steps} steps, test accuracy ${acc}, test loss ${num(summary.finalLoss, 4)}, ` +
          (summary.divergedAtStep !== null ? `DIVERGED (non-finite loss from step ${summary.divergedAtStep}), ` : '') +
          `simulated ${summary.simTimeSec.toFixed(3)} s, ${(summary.totalBits / 8e6).toFixed(1)} MB sent, wall ${summary.wallTimeSec.toFixed(1)} s` +
          (summary.timeToTarget ? `, target reached at step ${summary.timeToTarget.step} (${summary.timeToTarget.simTimeSec.toFixed(3)} s simulated)` : '') +
          `\nresults in ${dir}\n`,
      );
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

await yargs(hideBin(process.argv))
  .scriptName('dtemu')
  .strict()
  .option('debug', { type: 'boolean', describe: 'print stack traces' })
  .command(
    'run <file>',
    'run an experiment',
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true })
        .option('out', { type: 'string', describe: 'run directory (default runs/<name>-<time>)' })
        .option('set', { type: 'string', array: true, describe: 'override a key: --set optimizer.lr=0.05' })
        .option('seed', { type: 'number', describe: 'override the seed' })
        .option('quiet', { type: 'boolean', describe: 'no progress output' }),
    (a) => cmdRun(a as never),
  )
  .command(
    'sweep <file>',
    "run every point of an experiment's sweep block (skips runs already completed)",
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true })
        .option('out', { type: 'string', describe: 'sweep directory (default runs/<name>-sweep)' })
        .option('parallel', { type: 'number', describe: 'runs at once (default sweep.parallel)' })
        .option('quiet', { type: 'boolean' }),
    async (a) => {
      const quiet = a.quiet === true;
      let abort: (() => void) | null = null;
      const onSigint = () => abort?.();
      process.on('SIGINT', onSigint);
      try {
        const { dir, rows } = await runSweep(a.file, {
          ...(a.out ? { outDir: a.out } : {}),
          ...(a.parallel ? { parallel: a.parallel } : {}),
          onAbortHook: (f) => (abort = f),
          onProgress: (done, total, row) => {
            if (!quiet) process.stderr.write(`[${done}/${total}] ${row.point.label}: ${row.status}${row.error ? ` (${row.error})` : ''}\n`);
          },
        });
        if (!quiet) process.stdout.write(`${formatSweepTable(rows)}\nresults in ${dir} (sweep.csv, plots/)\n`);
        if (rows.some((r) => r.status === 'failed')) throw new RunError(`${rows.filter((r) => r.status === 'failed').length} run(s) of the sweep failed; see sweep.csv`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
  )
  .command(
    'validate <file>',
    'check an experiment file without running it',
    (y) => y.positional('file', { type: 'string', demandOption: true }).option('set', { type: 'string', array: true }),
    async (a) => {
      // Also loads and checks the fault module, if any.
      const lc = await withGeneratedFaults(await resolvePlugins(loadConfig(a.file, { sets: (a.set as string[] | undefined) ?? [] })));
      process.stdout.write(`${a.file}: ok (${lc.config.workers} workers, ${lc.config.optimizer.kind}, ${lc.config.model.kind ?? 'model module'} on ${lc.config.data.dataset ?? lc.config.data.format})\n`);
    },
  )
  .command(
    'worker',
    'join a run as a worker process',
    (y) =>
      y
        .option('join', { type: 'string', demandOption: true, describe: 'coordinator URL, ws://HOST:PORT' })
        .option('token', { type: 'string', describe: "the run's token (or $DTEMU_TOKEN)" }),
    async (a) => {
      const token = a.token ?? process.env['DTEMU_TOKEN'];
      if (process.env['DTEMU_SPAWNED'] === '1') process.on('SIGINT', () => {});
      if (!token) throw new UserError('worker: --token is required (the coordinator prints it)');
      let url: URL;
      try {
        url = new URL(a.join);
      } catch {
        throw new UserError(`worker --join: expected a URL like ws://HOST:PORT, found "${a.join}"`);
      }
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UserError(`worker --join: expected a ws:// URL, found "${a.join}"`);
      process.exit(await runWorkerProcess(a.join, token));
    },
  )
  .command(
    'plot <runs..>',
    'redraw or overlay runs',
    (y) =>
      y
        .positional('runs', { type: 'string', array: true, demandOption: true })
        .option('x', { choices: ['bits', 'time', 'step'] as const, default: 'step' as const })
        .option('y', { choices: ['loss', 'accuracy'] as const, default: 'accuracy' as const })
        .option('out', { type: 'string', default: 'overlay.png' }),
    async (a) => {
      const runs = (a.runs as string[]).map((r) => {
        if (!existsSync(resolve(r, 'metrics.jsonl'))) throw new UserError(`${r}: not a run directory (no metrics.jsonl)`);
        return { label: basename(resolve(r)), lines: readMetrics(r) };
      });
      try {
        plotOverlay(runs, a.x as XAxis, a.y as YAxis, a.out);
      } catch (e) {
        throw new UserError(`plot --out ${a.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      process.stdout.write(`wrote ${a.out}\n`);
    },
  )
  .command(
    'data fetch',
    'install Fashion-MNIST (apt-get where possible)',
    () => {},
    async () => fetchData(),
  )
  .demandCommand(1)
  .fail((msg, err) => {
    if (err) fail(err);
    process.stderr.write(`dtemu: ${msg}\n`);
    process.exit(2);
  })
  .parseAsync()
  .catch(fail);
