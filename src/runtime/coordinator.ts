import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Endpoint } from '../../comm/endpoint.ts';
import { InprocRouter } from '../../comm/inproc-router.ts';
import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig } from '../config/types.ts';
import { MetricsAggregator, type MetricsLine, type WorkerBreakdown } from '../metrics/aggregator.ts';
import { RunDir } from '../metrics/run-dir.ts';
import { buildSummary, type Summary } from '../metrics/summary.ts';
import { plotRun } from '../plot/run-plots.ts';
import { plotBreakdown, plotTimeline, readTimeline } from '../plot/timeline-plots.ts';
import { writeRunReport } from '../plot/html-report.ts';
import { writeChromeTrace } from '../plot/chrome-trace.ts';
import { backendDevice, selectBackend } from '../train/backend.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { withGeneratedFaults } from './fault-program.ts';
import { runManifest } from './manifest.ts';
import { membershipOf, networkOf, preflight, topologyOf } from './run-setup.ts';
import { collectiveReport, plotRunLinks } from './collective-setup.ts';
import { serveParameterServer } from './server-loop.ts';
import { algorithmOf } from '../../optimizers/index.ts';
import { pluginAlgorithm } from './plugins.ts';
import { resolvePlugins } from '../config/plugins.ts';
import { WorkerHost } from './worker-host.ts';
import { WsHub } from './ws-hub.ts';
import { gossipNeighbours } from '../../topologies/neighbours.ts';
import { ringSgdShortcutApplies, runRingSgdTimeOnly } from './time-only-ring.ts';
import { checkTimeOnly } from './time-only.ts';
import { defaultProcessCount } from './process-packing.ts';
import { DTEMU_BIN } from '../util/package-root.ts';
import { checkSlurmRun, launchSlurmWorkers, reachableAddress, type Launcher, type SlurmWorkerStep } from './launchers/slurm.ts';

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
}

export interface RunResult {
  dir: string;
  summary: Summary;
}

const BIN = DTEMU_BIN;
const GANTT_MAX_WORKERS = 64;

/** Contiguous blocks of ranks per process: process p hosts ranks [p*n/P, (p+1)*n/P). */
export function rankSets(workers: number, processes: number): number[][] {
  return Array.from({ length: processes }, (_, p) => {
    const out: number[] = [];
    for (let r = Math.floor((p * workers) / processes); r < Math.floor(((p + 1) * workers) / processes); r++) out.push(r);
    return out;
  });
}

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
  const manifest = runManifest(lc, startedAt);
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
  const children: ChildProcess[] = [];
  let hub: WsHub | null = null;
  let hubClosed = false;
  let trainStart = 0;
  let trainEnd = 0;
  let serverDone: Promise<void> = Promise.resolve();
  const startServer = () => {
    if (c.topology.kind === 'star') {
      server = new Endpoint(c.workers, c.workers, router, network);
      recordServerSends(server);
      router.attach(server);
      serverDone = serveParameterServer(lc, server, pre.model, membership).catch((e: Error) => failNow(new RunError(`parameter server failed: ${e.message}`)));
    }
  };

  try {
    if (c.transport.kind === 'inproc' || opts.timeOnly) {
      manifest.backend = opts.timeOnly ? 'none (time-only)' : await selectBackend(c.backend);
      if (!opts.timeOnly) manifest.device = backendDevice();
      const host = new WorkerHost(lc, Array.from({ length: c.workers }, (_, r) => r), router, report, wall);
      host.timeOnly = opts.timeOnly === true;
      startServer();
      // Time-only all-reduce SGD on a fault-free ring: clock arrays instead of endpoints (and no
      // data set or model state to prepare).
      const shortcut = opts.timeOnly === true && ringSgdShortcutApplies(lc);
      if (!shortcut) await host.prepare();
      manifest.processes = [{ index: 0, pid: process.pid, host: 'coordinator', ranks: host.ranks, backend: manifest.backend }];
      dir.writeJson('manifest.json', manifest);
      trainStart = wall();
      await Promise.race([shortcut ? runRingSgdTimeOnly(lc, pre.model, report, wall) : host.run(), failed]);
      trainEnd = wall();
    } else {
      const token = randomBytes(16).toString('hex');
      const processes = defaultProcessCount(lc);
      const sets = rankSets(c.workers, processes);
      const exitCause = new Map<number, string>();
      // Under Slurm, tasks on other nodes must reach the hub: the node's address unless one is configured.
      const hubHost = slurm && c.transport.host === '127.0.0.1' ? reachableAddress() : c.transport.host;
      let step: SlurmWorkerStep | null = null;
      // An srun task by its index, with the node it ran on and what srun said about its end.
      const describeTask = (i: number): string | null => {
        const p = hub?.processes.find((x) => x.index === i);
        const cause = step?.causeOf(i);
        return p ? `worker process ${i} (pid ${p.pid} on ${p.host}, worker${p.ranks.length > 1 ? 's' : ''} ${p.ranks.join(',')})${cause ? ` ${cause}` : ''}` : null;
      };
      hub = new WsHub({
        host: hubHost,
        port: c.transport.port,
        token,
        maxPayload: c.transport.maxMessageBytes,
        lc,
        rankSets: sets,
        heartbeatTimeoutSec: lc.q.heartbeatTimeout,
        startupTimeoutSec: lc.q.startupTimeout,
        joinTimeoutSec: c.transport.spawn ? lc.q.startupTimeout : null,
        local: router,
        onReport: report,
        onFailure: (e) => failNow(e),
        expectedCrash: (a) => toleratesCrash && scheduledCrash(a),
        rejoins: (rank) => faults.rejoins(rank),
        describe: (p) => {
          if (step) return describeTask(p.index) ?? `worker process ${p.index}`;
          const cause = exitCause.get(p.pid);
          return `worker process ${p.index} (pid ${p.pid}, worker${p.ranks.length > 1 ? 's' : ''} ${p.ranks.join(',')})${cause ? ` ${cause}` : ''}`;
        },
      });
      // The server endpoint's outgoing messages go through the hub to worker processes.
      const hubRouter = new InprocRouter(hub);
      const port = await hub.listen();
      opts.onHubPort?.(port);
      const url = `ws://${hubHost === '0.0.0.0' ? (slurm ? reachableAddress() : '127.0.0.1') : hubHost}:${port}`;
      if (c.topology.kind === 'star') {
        server = new Endpoint(c.workers, c.workers, hubRouter, network);
        recordServerSends(server);
        router.attach(server);
        serverDone = serveParameterServer(lc, server, pre.model, membership).catch((e: Error) => failNow(new RunError(`parameter server failed: ${e.message}`)));
      }
      if (slurm) {
        step = launchSlurmWorkers({ bin: BIN, url, token, processes, extraArgs: opts.slurmArgs ?? [], over: () => hubClosed, describe: describeTask, fail: (m) => failNow(new RunError(m)) });
        children.push(step.child);
      } else if (c.transport.spawn) {
        // `replaces`: start a process in place of crashed process `replaces` (fault timeline rejoin).
        const spawnWorker = (replaces: number | null): void => {
          const child = spawn(process.execPath, [BIN, 'worker', '--join', url], {
            // DTEMU_SPAWNED: the worker ignores Ctrl-C (sent to the whole terminal process
            // group) so the coordinator can shut it down and report the interruption itself.
            env: { ...process.env, DTEMU_TOKEN: token, DTEMU_SPAWNED: '1', ...(replaces === null ? {} : { DTEMU_REPLACES: String(replaces) }) },
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          children.push(child);
          child.on('exit', (code, signal) => {
            const cause = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            if (child.pid !== undefined) exitCause.set(child.pid, cause);
            if (!hub || hubClosed) return;
            const info = hub.processes.find((x) => x.pid === child.pid);
            const announced = child.pid === undefined ? null : hub.announcedCrash(child.pid);
            if (info && signal === 'SIGKILL' && scheduledCrash(announced)) {
              if (toleratesCrash) {
                // The hub marks it done, or holds its messages until its replacement is ready.
                if (faults.rejoins(announced.rank)) spawnWorker(info.index);
                return;
              }
              failNow(
                new RunError(
                  `worker process ${info.index} (pid ${child.pid}, worker ${info.ranks.join(',')}) was killed by SIGKILL: ` +
                    `crashed by the fault timeline at step ${announced.step}; ${c.optimizer.kind} cannot continue without it`,
                ),
              );
              return;
            }
            failNow(
              new RunError(
                info
                  ? `worker process ${info.index} (pid ${child.pid}, worker${info.ranks.length > 1 ? 's' : ''} ${info.ranks.join(',')}) ${cause}`
                  : `a worker process (pid ${child.pid}) ${cause} before joining`,
              ),
            );
          });
        };
        for (let p = 0; p < processes; p++) spawnWorker(null);
        opts.onProcesses?.(children.map((ch) => ch.pid!).filter((p) => p !== undefined));
      } else {
        opts.onInfo?.(`waiting for ${processes} worker process(es): dtemu worker --join ws://<this-host>:${port} --token ${token}`);
      }
      await Promise.race([hub.whenReady(), failed]);
      opts.onPeersReady?.(hub.peerUrls);
      manifest.processes = hub.processes;
      manifest.backend = [...new Set(hub.processes.map((p) => p.backend))].join(',');
      manifest.device = [...new Set(hub.processes.map((p) => p.device ?? 'unknown'))].join(', ');
      dir.writeJson('manifest.json', manifest);
      trainStart = wall();
      await Promise.race([hub.start(startedAt), failed]);
      trainEnd = wall();
      // Crashed processes and their replacements (fault timeline rejoin).
      manifest.processes = hub.processes;
    }
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
    const breakdown: WorkerBreakdown[] = agg.finish();
    const serverStats = server ? (server as Endpoint).stats : null;
    const summary = buildSummary(lc, lines, breakdown, wall(), manifest.backend, serverStats ? serverStats.bytesSent * 8 : 0, serverStats?.bytesTo);
    summary.trainWallSec = trainEnd - trainStart;
    // Time-only: NaN losses are the absence of training, not a divergence.
    if (opts.timeOnly) summary.divergedAtStep = null;
    if (algorithm.summary) {
      const params = pre.model.params.map((p) => ({ name: p.name, offset: p.offset, size: p.size, shape: p.shape }));
      Object.assign(summary, algorithm.summary(c.optimizer, { params, workers: c.workers, steps: c.train.steps, neighbours: () => gossipNeighbours(topologyOf(lc)) }));
    }
    // The collective report and link plot time whole schedules (2n(n-1) messages for a ring)
    // under max-min sharing: at time-only scale they would cost more than the run itself.
    const analyseCollectives = !opts.timeOnly || c.workers <= GANTT_MAX_WORKERS;
    if (c.topology.kind !== 'star' && analyseCollectives) summary.collective = collectiveReport(lc, pre.model.size);
    dir.writeJson('summary.json', summary);
    try {
      // Time-only runs have no losses: only the timeline and the time breakdown are drawn.
      if (!opts.timeOnly) await plotRun(outDir, lc.config.name, lines);
      // A Gantt chart (or trace) of thousands of rows is unreadable and took most of a large
      // run's wall time: the first GANTT_MAX_WORKERS workers (timeline.jsonl has them all).
      const ganttWorkers = Math.min(c.workers, GANTT_MAX_WORKERS);
      // Time-only runs use no more of the timeline (report.html is for full runs).
      const timeline = readTimeline(outDir, opts.timeOnly ? ganttWorkers : Infinity);
      const shown = ganttWorkers < c.workers ? timeline.filter((e) => e.worker < ganttWorkers) : timeline;
      writeChromeTrace(join(outDir, 'trace.json'), shown, ganttWorkers, c.name, topologyOf(lc), server ? (server as Endpoint).drainTransfers() : []);
      plotTimeline(shown, ganttWorkers, join(outDir, 'plots', 'timeline.png'), c.name);
      // Likewise the breakdown's bars (10,000 of them took seconds to draw in 800 pixels).
      const barsNote = ganttWorkers < c.workers ? ` (workers 0-${ganttWorkers - 1} of ${c.workers})` : '';
      plotBreakdown(breakdown.slice(0, ganttWorkers), join(outDir, 'plots', 'breakdown.png'), `${c.name}: where each worker's simulated time went${barsNote}`);
      if (c.topology.kind !== 'star' && c.workers > 1 && analyseCollectives) plotRunLinks(lc, pre.model.size, join(outDir, 'plots', 'links.png'));
      if (!opts.timeOnly) writeRunReport(outDir, c.name, lines, breakdown, timeline, summary as unknown as Record<string, unknown>);
    } catch (e) {
      // Plots are a convenience: a failure to draw must not lose a finished run's results.
      opts.onInfo?.(`warning: could not draw plots (${(e as Error).message}); metrics and summary are complete`);
    }
    if (dir.writeError) throw dir.writeError;
    manifest.status = 'completed';
    manifest.endedAt = new Date().toISOString();
    process.off('exit', onProcessExit);
    dir.writeFinalManifest(manifest);
    dir.close();
    return { dir: outDir, summary };
  }

  async function teardown(): Promise<void> {
    hubClosed = true;
    if (hub) await hub.close();
    await Promise.all(
      children.map(
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
