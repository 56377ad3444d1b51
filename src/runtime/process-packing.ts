import { availableParallelism } from 'node:os';
import type { LoadedConfig } from '../config/types.ts';

/**
 * How many worker processes a ws run spawns when `transport.processes` is not set: one per core
 * (at most one per worker). More processes than cores only adds context switches and
 * cross-process ring hops: the quickstart (4 workers) on 2 cores took 16 s of CPU with 2
 * processes against 25 s with 4. Metrics do not depend on the packing (determinism tests).
 * One process per worker where a worker must be alone in its process: a crash on the fault
 * timeline kills its process; remote workers (`spawn: false`) join one per worker.
 */
export function defaultProcessCount(lc: LoadedConfig, cores = availableParallelism()): number {
  const c = lc.config;
  if (c.transport.processes !== undefined) return c.transport.processes;
  if (!c.transport.spawn || lc.faults.some((f) => f.kind === 'crash')) return c.workers;
  return Math.max(1, Math.min(c.workers, cores));
}
