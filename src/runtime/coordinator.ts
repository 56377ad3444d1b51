import { resolve } from 'node:path';
import { Endpoint } from '../../comm/endpoint.ts';
import { InprocRouter } from '../../comm/transport/inproc-router.ts';
import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig } from '../config/types.ts';
import { MetricsAggregator, type MetricsLine } from '../metrics/aggregator.ts';
import { RunDir } from '../metrics/run-dir.ts';
import type { Summary } from '../metrics/summary.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { withGeneratedFaults } from './fault-program.ts';
import { runManifest } from './manifest.ts';
import { membershipOf, networkOf, preflight } from './run-setup.ts';
import { serveParameterServer } from './server-loop.ts';
import { algorithmOf } from '../../optimizers/index.ts';
import { pluginAlgorithm } from './plugins.ts';
import { resolvePlugins } from '../config/plugins.ts';
import { checkTimeOnly } from './time-only.ts';
import { checkSlurmRun, type Launcher } from './launchers/slurm.ts';
import { GANTT_MAX_WORKERS, type RunSession } from './run-session.ts';
import { runInProcess } from './inproc-run.ts';
import { runWsCluster } from './ws-cluster.ts';
import { writeRunOutputs } from './run-outputs.ts';

export interface RunOptions {
  /** Run directory; must not exist or be empty. Default: a fresh runs/<name>-<time>. */
  outDir?: string;
  /** Where fresh run directories go (default ./runs). */
  runsDir?: string;
  /** Told the run directory once it exists. */
  onDir?: (dir: string) => void;
  /** Called for every metrics line (progress display). */
  onLine?: (line: MetricsLine) => void;
  /** Called with messages for the user (join instructions for remote workers). */
  onInfo?: (msg: string) => void;
  /** Register an abort hook (Ctrl-C); the coordinator tears everything down on call. */
  onAbortHook?: (abort: (reason: string, exitCode: number) => void) => void;
  /**
   * Time-only mode (`dtemu simulate`): in process, no training and no tfjs backend; the same
   * schedule, network model, stragglers and faults, with zero payloads of the real sizes
   * (src/runtime/time-only.ts says which configurations qualify). Losses are null.
   */
  timeOnly?: boolean;
  /** Extra process-level observers (tests): worker pids once spawned. */
  onProcesses?: (pids: number[]) => void;
  /** Who starts the worker processes: `local` (spawned here, default) or `slurm` (one srun step). */
  launcher?: Launcher;
  /** Extra srun options (--slurm-arg) under the Slurm launcher. */
  slurmArgs?: string[];
  /** ws: the hub's port once it listens, and every worker process's peer URL once all are ready (diagnostics, tests). */
  onHubPort?: (port: number) => void;
  onPeersReady?: (peerUrls: string[]) => void;
  /** The command line, recorded in manifest.json (process.argv is read by src/cli only). */
  argv?: string[];
}

export interface RunResult {
  dir: string;
  summary: Summary;
}


export { rankSets } from './ws-cluster.ts';

/**
 * Run one experiment end to end: run directory, workers (in process or as OS processes over
 * ws), metrics, summary and plots. The config must already be validated.
 */
export async function runExperiment(loaded: LoadedConfig, opts: RunOptions): Promise<RunResult> {
  // Slurm's commands and the allocation are inputs: checked before anything is loaded or created.
  const slurm = opts.launcher === 'slurm';
  if (slurm) checkSlurmRun(loaded, opts.slurmArgs ?? []);
  // A broken fault module is an input error: found here (it is loaded and checked) before
  // anything is created.
  // Plugin modules are imported and their options validated first (a bad plugin exits 2).
  const lc = await withGeneratedFaults(await resolvePlugins(loaded));
  const algorithm = algorithmOf(lc.config.optimizer, pluginAlgorithm(lc));
  const c = lc.config;
  if (opts.timeOnly) checkTimeOnly(lc);
  const pre = preflight(lc);
  const dir = opts.outDir ? RunDir.create(opts.outDir) : RunDir.createFresh(opts.runsDir ?? resolve('runs'), c.name);
  const outDir = dir.path;
  opts.onDir?.(outDir);
  const startedAt = Date.now();
  const faults = new FaultSchedule(lc.faults);
  // Shared by the master (which decides rejoins) and the aggregator (who reports each step).
  const membership = membershipOf(lc, faults);
  // Only algorithms whose master carries on survive a crash; the others stop with an error.
  const toleratesCrash = algorithm.toleratesCrash(c.optimizer, c.topology.kind);
  // A crash counts as the fault timeline's only if the worker announced it at the scheduled step.
  const scheduledCrash = (a: { rank: number; step: number } | null): a is { rank: number; step: number } => a !== null && faults.crashStep(a.rank) === a.step;
  const wall = () => (Date.now() - startedAt) / 1000;
  const lines: MetricsLine[] = [];
  const agg = new MetricsAggregator(
    c.workers,
    (line) => {
      dir.appendMetric(line);
      lines.push(line);
      try {
        opts.onLine?.(line);
      } catch {
        /* a display problem must not stop the run */
      }
    },
    wall,
    (e) => dir.appendTimeline(e),
    // Without crashes every worker reports every step (alive() is O(n) per report).
    faults.crashes().length === 0 ? () => c.workers : (step) => membership.alive(step).length,
    // A worker that crashed for good: its time ends at its last step.
    (w) => faults.crashStep(w) !== null && faults.crashStep(w)! <= c.train.steps && membership.backAfter(w) === null,
  );
  const manifest = runManifest(lc, startedAt, opts.argv);
  /** Every ending other than success: the manifest says failed or interrupted, with the reason. */
  // A coordinator that exits mid-run (an internal error ends the process from a socket or
  // timer callback) still leaves an honest manifest; only SIGKILL escapes this (see dtemu status).
  const onProcessExit = () => {
    manifest.status = 'failed';
    manifest.error = 'the coordinator exited before the run ended (an internal error; see its output)';
    manifest.endedAt = new Date().toISOString();
    try {
      dir.writeFinalManifest(manifest);
    } catch {
      /* nothing more can be done while exiting */
    }
  };
  process.once('exit', onProcessExit);
  const endFailed = (err: RunError | UserError): void => {
    process.off('exit', onProcessExit);
    manifest.status = err instanceof RunError && (err.exitCode === 130 || err.exitCode === 143) ? 'interrupted' : 'failed';
    manifest.error = err.message;
    manifest.endedAt = new Date().toISOString();
    try {
      dir.writeFinalManifest(manifest);
    } catch (e) {
      err.message += `; and the final manifest could not be written either (${(e as Error).message})`;
    }
    dir.close();
  };
  try {
    dir.writeConfig(c);
    dir.writeJson('manifest.json', manifest);
  } catch (e) {
    endFailed(e as RunError);
    throw e;
  }

  let failure: RunError | null = null;
  let failNow: (e: RunError) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failNow = (e) => {
      if (!failure) {
        failure = e;
        reject(e);
      }
    };
  });
  failed.catch(() => {});
  // A full disk (or any failed append) fails the run; what was written stays whole.
  dir.onWriteError = (e) => failNow(e);
  opts.onAbortHook?.((reason, exitCode) => failNow(new RunError(reason, exitCode)));

  const router = new InprocRouter(null);
  const network = networkOf(lc);
  let server: Endpoint | null = null;
  // The master's sends, for trace.json's link tracks (workers' sends travel in their step
  // reports; the master reports no steps). Same bound as the workers' recording.
  const recordServerSends = (ep: Endpoint) => {
    if (c.workers <= GANTT_MAX_WORKERS) ep.transfers = [];
  };
  const report = (r: WorkerReport) => agg.add(r);
  let trainStart = 0;
  let trainEnd = 0;
  let serverDone: Promise<void> = Promise.resolve();
  // The master on the parameter-server endpoint (rank n) of a star; its sends go out through
  // `outgoing` (this router in process, the hub's over ws) and it receives on this router.
  const startServer = (outgoing: InprocRouter) => {
    if (c.topology.kind === 'star') {
      server = new Endpoint(c.workers, c.workers, outgoing, network);
      recordServerSends(server);
      router.attach(server);
      serverDone = serveParameterServer(lc, server, pre.model, membership).catch((e: Error) => failNow(new RunError(`parameter server failed: ${e.message}`)));
    }
  };
  const session: RunSession = {
    lc,
    c,
    opts,
    pre,
    slurm,
    faults,
    toleratesCrash,
    scheduledCrash,
    manifest,
    dir,
    startedAt,
    wall,
    router,
    report,
    failed,
    failNow,
    startServer,
    children: [],
    hub: null,
    hubClosed: false,
  };

  try {
    const times = c.transport.kind === 'inproc' || opts.timeOnly ? await runInProcess(session) : await runWsCluster(session);
    trainStart = times.trainStart;
    trainEnd = times.trainEnd;
    if (server) {
      (server as Endpoint).fail(new RunError('run over'));
      await serverDone;
    }
    if (dir.writeError) throw dir.writeError;
  } catch (e) {
    const err = e instanceof RunError || e instanceof UserError ? e : new RunError(`${(e as Error).message}`);
    router.failAll(err);
    await teardown();
    endFailed(err);
    if (!(e instanceof RunError)) (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
  await teardown();
  try {
    return await finishRun();
  } catch (e) {
    const err = e instanceof RunError || e instanceof UserError ? e : new RunError(`${(e as Error).message}`);
    endFailed(err);
    throw err;
  }

  async function finishRun(): Promise<RunResult> {
    const summary = await writeRunOutputs(session, agg, lines, server, algorithm, { trainStart, trainEnd });
    if (dir.writeError) throw dir.writeError;
    manifest.status = 'completed';
    manifest.endedAt = new Date().toISOString();
    process.off('exit', onProcessExit);
    dir.writeFinalManifest(manifest);
    dir.close();
    return { dir: outDir, summary };
  }

  async function teardown(): Promise<void> {
    session.hubClosed = true;
    if (session.hub) await session.hub.close();
    await Promise.all(
      session.children.map(
        (ch) =>
          new Promise<void>((resolve) => {
            if (ch.exitCode !== null || ch.signalCode !== null) return resolve();
            const t = setTimeout(() => ch.kill('SIGKILL'), 3000);
            ch.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            if (failure) ch.kill('SIGTERM');
          }),
      ),
    );
  }
}
