import type { ChildProcess } from 'node:child_process';
import type { InprocRouter } from '../../comm/transport/inproc-router.ts';
import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig, ExperimentConfig } from '../config/types.ts';
import type { RunDir } from '../metrics/run-dir.ts';
import type { Manifest } from './manifest.ts';
import type { FaultSchedule } from '../sim/faults.ts';
import type { RunError } from '../util/user-error.ts';
import type { Preflight } from './run-setup.ts';
import type { RunOptions } from './coordinator.ts';
import type { WsHub } from './ws-hub.ts';

/** Workers drawn in the Gantt chart and trace.json, and recorded for them (timeline.jsonl has all). */
export const GANTT_MAX_WORKERS = 64;

/**
 * One run as the coordinator (src/runtime/coordinator.ts) sets it up and its two hosts use it:
 * the in-process host (inproc-run.ts) and the ws cluster (ws-cluster.ts). Everything here is
 * created once per run; the hosts only report, fail the run or start the master through it.
 */
export interface RunSession {
  lc: LoadedConfig;
  c: ExperimentConfig;
  opts: RunOptions;
  pre: Preflight;
  /** Under `--launcher slurm`. */
  slurm: boolean;
  faults: FaultSchedule;
  /** Whether the algorithm's master carries on after a crash. */
  toleratesCrash: boolean;
  /** A crash counts as the fault timeline's only if the worker announced it at the scheduled step. */
  scheduledCrash(a: { rank: number; step: number } | null): a is { rank: number; step: number };
  manifest: Manifest;
  dir: RunDir;
  startedAt: number;
  /** Wall seconds since the start (metrics' wallTimeSec). */
  wall(): number;
  /** The coordinator's in-process router (workers in this process, and the master). */
  router: InprocRouter;
  report(r: WorkerReport): void;
  /** Rejects when the run fails (a worker process, the master, a full disk, Ctrl-C). */
  failed: Promise<never>;
  failNow(e: RunError): void;
  /** The master on the parameter-server endpoint (a star), its outgoing messages through `outgoing`. */
  startServer(outgoing: InprocRouter): void;
  /** Spawned worker processes (or the srun step), for teardown. */
  children: ChildProcess[];
  hub: WsHub | null;
  /** Set by teardown: worker exits after this are expected. */
  hubClosed: boolean;
}
