import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { InprocRouter } from '../../comm/transport/inproc-router.ts';
import { RunError } from '../util/user-error.ts';
import { defaultProcessCount } from './process-packing.ts';
import { DTEMU_BIN } from '../util/package-root.ts';
import { launchSlurmWorkers, reachableAddress, type SlurmWorkerStep } from './launchers/slurm.ts';
import type { RunSession } from './run-session.ts';
import { WsHub } from './ws-hub.ts';

const BIN = DTEMU_BIN;

/** Contiguous blocks of ranks per process: process p hosts ranks [p*n/P, (p+1)*n/P). */
export function rankSets(workers: number, processes: number): number[][] {
  return Array.from({ length: processes }, (_, p) => {
    const out: number[] = [];
    for (let r = Math.floor((p * workers) / processes); r < Math.floor(((p + 1) * workers) / processes); r++) out.push(r);
    return out;
  });
}

/**
 * The ws cluster (`transport.kind: ws`): the hub (token admission, ranks, control, liveness,
 * the parameter server's relay), worker processes spawned here, started by srun, or joining
 * from other hosts, and what their exits mean (a scheduled crash and its replacement, or a
 * failure naming the process). Resolves when training ends; the hub stays in `s.hub` for the
 * coordinator's teardown.
 */
export async function runWsCluster(s: RunSession): Promise<{ trainStart: number; trainEnd: number }> {
  const { lc, c, opts, slurm, faults, toleratesCrash, scheduledCrash, manifest, dir, startedAt, wall, router, report, failed, failNow, children } = s;
  let trainStart = 0;
  let trainEnd = 0;
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
  const hub = new WsHub({
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
  s.hub = hub;
  // The server endpoint's outgoing messages go through the hub to worker processes.
  const hubRouter = new InprocRouter(hub);
  const port = await hub.listen();
  opts.onHubPort?.(port);
  const url = `ws://${hubHost === '0.0.0.0' ? (slurm ? reachableAddress() : '127.0.0.1') : hubHost}:${port}`;
  s.startServer(hubRouter);
  if (slurm) {
    step = launchSlurmWorkers({ bin: BIN, url, token, processes, extraArgs: opts.slurmArgs ?? [], over: () => s.hubClosed, describe: describeTask, fail: (m) => failNow(new RunError(m)) });
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
        if (!hub || s.hubClosed) return;
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
  return { trainStart, trainEnd };
}
