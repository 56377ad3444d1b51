import { backendDevice, selectBackend } from '../train/backend.ts';
import type { RunSession } from './run-session.ts';
import { WorkerHost } from './worker-host.ts';
import { ringSgdShortcutApplies, runRingSgdTimeOnly } from './time-only-ring.ts';

/**
 * The in-process host (`transport.kind: inproc`, and `dtemu simulate`): every logical worker in
 * the coordinator's process around one WorkerHost, the master (if any) on the same router.
 * Resolves when training ends; its wall-clock bounds go to summary.json.
 */
export async function runInProcess(s: RunSession): Promise<{ trainStart: number; trainEnd: number }> {
  const { lc, c, opts, pre, manifest, dir, wall, router, report, failed } = s;
  let trainStart = 0;
  let trainEnd = 0;
  manifest.backend = opts.timeOnly ? 'none (time-only)' : await selectBackend(c.backend);
  if (!opts.timeOnly) manifest.device = backendDevice();
  const host = new WorkerHost(lc, Array.from({ length: c.workers }, (_, r) => r), router, report, wall);
  host.timeOnly = opts.timeOnly === true;
  s.startServer(router);
  // Time-only all-reduce SGD on a fault-free ring: clock arrays instead of endpoints (and no
  // data set or model state to prepare).
  const shortcut = opts.timeOnly === true && ringSgdShortcutApplies(lc);
  if (!shortcut) await host.prepare();
  manifest.processes = [{ index: 0, pid: process.pid, host: 'coordinator', ranks: host.ranks, backend: manifest.backend }];
  dir.writeJson('manifest.json', manifest);
  trainStart = wall();
  await Promise.race([shortcut ? runRingSgdTimeOnly(lc, pre.model, report, wall) : host.run(), failed]);
  trainEnd = wall();
  return { trainStart, trainEnd };
}
