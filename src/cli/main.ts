import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { XAxis, YAxis } from '../plot/run-plots.ts';
import { slurmSweepCommand, SLURM_SWEEP_OPTIONS } from './slurm-commands.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { integerFlag } from './flags.ts';

// Every command imports what it needs when it runs: tfjs, chart.js, the canvas binding and the
// ws stack are only loaded by the paths that use them, so `--help` and `validate` start fast.

const debug = process.argv.includes('--debug');

/** An error is one line whatever it quotes (a key or value with a newline in it, a worker's message). */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

function fail(e: unknown): never {
  if (e instanceof UserError || e instanceof RunError) {
    process.stderr.write(`dtemu: ${oneLine(e.message)}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(e.exitCode);
  }
  process.stderr.write(`dtemu: internal error: ${oneLine(String((e as Error | undefined)?.message ?? e))}\n`);
  if (debug) process.stderr.write(((e as Error).stack ?? '') + '\n');
  else process.stderr.write('dtemu: rerun with --debug for the stack trace\n');
  process.exit(1);
}

// Last resort: a bug must still end in one line and a non-zero exit, not a dump.
process.on('uncaughtException', (e) => fail(e));
process.on('unhandledRejection', (e) => fail(e));

async function cmdRun(
  argv: { file: string; out?: string; set?: string[]; seed?: string; quiet?: boolean; launcher?: 'local' | 'slurm'; slurmArg?: string[] },
  timeOnly = false,
): Promise<void> {
  const [{ loadConfig }, { runExperiment }, { ensureFashionMnist }, { num, Progress, sentText }, { checkTimeOnly }] = await Promise.all([
    import('../config/load.ts'),
    import('../runtime/coordinator.ts'),
    import('./data-fetch.ts'),
    import('./progress.ts'),
    import('../runtime/time-only.ts'),
  ]);
  const seed = integerFlag('--seed', argv.seed, 0);
  const lc = loadConfig(argv.file, { sets: argv.set ?? [], ...(seed === undefined ? {} : { seed }), ...(timeOnly ? { timeOnly } : {}) });
  if (timeOnly) checkTimeOnly(lc);
  // (Quiet runs, such as a sweep's own points, say nothing.)
  if (lc.config.sweep && argv.quiet !== true) {
    process.stderr.write(`dtemu: ${argv.file} has a sweep block; running its base point only ('dtemu sweep ${argv.file}' runs every point)\n`);
  }
  // A fresh machine's first `npm start`: get the data set rather than fail for want of it.
  if (lc.config.data.dataset === 'fashion-mnist') ensureFashionMnist();
  let outDir = argv.out ? resolve(argv.out) : `runs/${lc.config.name}-<time>`;
  const quiet = argv.quiet === true;
  // A bar on a terminal; one line per evaluation when piped or logged (stdout, with the summary).
  const progress = new Progress(lc.config.train.steps, quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'lines', (l) => process.stdout.write(l + '\n'));
  let abort: ((reason: string, exitCode: number) => void) | null = null;
  const onSigint = () => abort?.('interrupted (Ctrl-C); metrics so far are in ' + outDir, 130);
  const onSigterm = () => abort?.('terminated (SIGTERM); metrics so far are in ' + outDir, 143);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const { summary, dir } = await runExperiment(lc, {
      ...(argv.out ? { outDir } : {}),
      onDir: (d) => (outDir = d),
      onLine: (l) => progress.line(l),
      onInfo: (m) => process.stderr.write(m + '\n'),
      onAbortHook: (a) => (abort = a),
      argv: process.argv.slice(2),
      ...(argv.launcher ? { launcher: argv.launcher, slurmArgs: argv.slurmArg ?? [] } : {}),
      timeOnly,
    });
    progress.stop();
    if (!quiet && timeOnly) {
      process.stdout.write(
        `${summary.name}: ${summary.steps} steps simulated (time only, no training), simulated ${summary.simTimeSec.toFixed(3)} s, ` +
          `${sentText({ bits: summary.totalBits, uplinkBits: summary.uplinkBits, downlinkBits: summary.downlinkBits })}, wall ${summary.wallTimeSec.toFixed(1)} s\nresults in ${dir}\n`,
      );
    } else if (!quiet) {
      const acc = summary.finalAccuracy === null ? 'n/a' : `${num(100 * summary.finalAccuracy, 2)}%`;
      process.stdout.write(
        `${summary.name}: ${summary.steps} steps, test accuracy ${acc}, test loss ${num(summary.finalLoss, 4)}, ` +
          (summary.divergedAtStep !== null ? `DIVERGED (non-finite loss from step ${summary.divergedAtStep}), ` : '') +
          `simulated ${summary.simTimeSec.toFixed(3)} s, ${sentText({ bits: summary.totalBits, uplinkBits: summary.uplinkBits, downlinkBits: summary.downlinkBits })}, wall ${summary.wallTimeSec.toFixed(1)} s` +
          (summary.timeToTarget ? `, target reached at step ${summary.timeToTarget.step} (${summary.timeToTarget.simTimeSec.toFixed(3)} s simulated)` : '') +
          `\nresults in ${dir}\n`,
      );
    }
  } finally {
    progress.stop();
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
        .option('seed', { type: 'string', describe: 'override the seed (an integer >= 0)' })
        .option('quiet', { type: 'boolean', describe: 'no progress output' })
        .option('launcher', { choices: ['local', 'slurm'] as const, describe: 'who starts the worker processes (slurm: srun tasks of the current allocation)' })
        .option('slurm-arg', { type: 'string', array: true, nargs: 1, describe: 'extra srun option under --launcher slurm (repeatable)' }),
    (a) => cmdRun(a as never),
  )
  .command(
    'simulate <file>',
    'time-only run: the same schedule, network, stragglers and faults, no training (simTimeSec, bits, timeline)',
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true })
        .option('out', { type: 'string', describe: 'run directory (default runs/<name>-<time>)' })
        .option('set', { type: 'string', array: true, describe: 'override a key: --set workers=1024' })
        .option('seed', { type: 'string', describe: 'override the seed (an integer >= 0)' })
        .option('quiet', { type: 'boolean', describe: 'no progress output' }),
    (a) => cmdRun(a as never, true),
  )
  .command(
    'sweep <file>',
    "run every point of an experiment's sweep block (skips runs already completed)",
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true })
        .option('out', { type: 'string', describe: 'sweep directory (default runs/<name>-sweep)' })
        .option('set', { type: 'string', array: true, describe: 'override a key in every point: --set train.steps=200' })
        .option('parallel', { type: 'string', describe: 'runs at once (default sweep.parallel)' })
        .option('max-points', { type: 'string', describe: 'refuse grids with more points than this (default 10000)' })
        .option('quiet', { type: 'boolean' })
        .options(SLURM_SWEEP_OPTIONS),
    async (a) => {
      if (await slurmSweepCommand(a)) return;
      const [{ formatSweepTable, runSweep }, { ensureFashionMnist }] = await Promise.all([import('../runtime/sweep.ts'), import('./data-fetch.ts')]);
      const quiet = a.quiet === true;
      const parallel = integerFlag('--parallel', a.parallel, 1, 64);
      const maxPoints = integerFlag('--max-points', a['max-points'] as string | undefined, 1);
      let abort: (() => void) | null = null;
      const onSigint = () => abort?.();
      process.on('SIGINT', onSigint);
      // SIGTERM too: left to its default, the sweep would die and orphan its points' runs.
      process.on('SIGTERM', onSigint);
      try {
        const { dir, rows } = await runSweep(a.file, {
          beforeRuns: (datasets) => {
            if (datasets.has('fashion-mnist')) ensureFashionMnist();
          },
          sets: (a.set as string[] | undefined) ?? [],
          ...(a.out ? { outDir: a.out } : {}),
          ...(parallel !== undefined ? { parallel } : {}),
          ...(maxPoints !== undefined ? { maxPoints } : {}),
          onAbortHook: (f) => (abort = f),
          onProgress: (done, total, row) => {
            if (!quiet) process.stderr.write(`[${done}/${total}] ${row.point.label}: ${row.status}${row.error ? ` (${row.error})` : ''}\n`);
          },
        });
        if (!quiet) process.stdout.write(`${formatSweepTable(rows)}\nresults in ${dir} (sweep.csv, plots/)\n`);
        if (rows.some((r) => r.status === 'failed')) throw new RunError(`${rows.filter((r) => r.status === 'failed').length} run(s) of the sweep failed; see sweep.csv`);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    },
  )
  .command(
    'validate <file>',
    'check an experiment file without running it',
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true })
        .option('set', { type: 'string', array: true })
        .option('max-points', { type: 'string', describe: 'a sweep: refuse grids with more points than this (default 10000), as dtemu sweep does' }),
    async (a) => {
      const maxPoints = integerFlag('--max-points', a['max-points'] as string | undefined, 1);
      const [{ loadConfig }, { withGeneratedFaults }, { resolvePlugins }] = await Promise.all([import('../config/load.ts'), import('../runtime/fault-program.ts'), import('../config/plugins.ts')]);
      // Also loads and checks the fault module, if any.
      const sets = (a.set as string[] | undefined) ?? [];
      // Plugin modules are imported and their options validated too.
      const lc = await withGeneratedFaults(await resolvePlugins(loadConfig(a.file, { sets })));
      // A sweep file: every grid point (x seed) must be valid too (the error suggests --max-points: it works here too).
      // (The sweep module loads the plotting stack: only for a sweep file.)
      const checkSweep = lc.config.sweep ? (await import('../runtime/sweep.ts')).checkSweep : null;
      const sweep = checkSweep ? `; sweep of ${(await checkSweep(a.file, sets, maxPoints)).points.length} points checked` : '';
      process.stdout.write(
        `${a.file}: ok (${lc.config.workers} workers, ${lc.config.optimizer.kind}, ${lc.config.model.kind ?? 'model module'} on ${lc.config.data.dataset ?? lc.config.data.format ?? 'a data module'}${sweep})\n`,
      );
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
      const { runWorkerProcess } = await import('../runtime/worker-process.ts');
      process.exit(await runWorkerProcess(a.join, token, (m) => process.stderr.write(`dtemu worker: ${m}\n`)));
    },
  )
  .command(
    'plot <runs..>',
    'overlay runs and sweeps (a sweep\'s seeds: mean and min-max band); .png, .svg or .pdf from --out',
    (y) =>
      y
        .positional('runs', { type: 'string', array: true, demandOption: true })
        .option('x', { choices: ['bits', 'time', 'step'] as const, default: 'step' as const })
        .option('y', { choices: ['loss', 'accuracy'] as const, default: 'accuracy' as const })
        .option('out', { type: 'string', default: 'overlay.png', describe: 'output file: .png, .svg or .pdf' })
        .option('title', { type: 'string', describe: 'chart title' })
        .option('label', { type: 'string', array: true, describe: 'curve labels, one per run or sweep point, in order' }),
    async (a) => {
      const [{ plotGroups }, { plotFormatOf }, { curvesOf }, { readRunState }] = await Promise.all([
        import('../plot/run-plots.ts'),
        import('../plot/chart-output.ts'),
        import('../plot/plot-inputs.ts'),
        import('../metrics/run-state.ts'),
      ]);
      plotFormatOf(a.out); // an unknown extension is refused before anything is read
      for (const r of a.runs as string[]) {
        if (!existsSync(resolve(r, 'metrics.jsonl'))) continue; // a sweep directory (curvesOf checks)
        const st = readRunState(r);
        if (st.status === 'dead') process.stderr.write(`dtemu: warning: ${r}: ${st.detail}; plotting what it wrote\n`);
      }
      const groups = curvesOf(a.runs as string[], (a.label as string[] | undefined) ?? []);
      try {
        plotGroups(groups, a.x as XAxis, a.y as YAxis, a.out, a.title as string | undefined);
      } catch (e) {
        if (e instanceof UserError) throw e;
        throw new UserError(`plot --out ${a.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      process.stdout.write(`wrote ${a.out}\n`);
    },
  )
  .command(
    'status <dirs..>',
    'what a run (or sweep) directory holds: completed, running, failed, interrupted, or dead (coordinator gone)',
    (y) => y.positional('dirs', { type: 'string', array: true, demandOption: true }),
    async (a) => {
      const { statusCommand } = await import('./status.ts');
      process.exitCode = statusCommand(a.dirs as string[], (l) => process.stdout.write(l + '\n'));
    },
  )
  .command(
    'data fetch',
    'install Fashion-MNIST (apt-get where possible)',
    () => {},
    async () => (await import('./data-fetch.ts')).fetchData(),
  )
  .demandCommand(1)
  .fail((msg, err) => {
    if (err) fail(err);
    process.stderr.write(`dtemu: ${msg}\n`);
    process.exit(2);
  })
  .parseAsync()
  .catch(fail);
