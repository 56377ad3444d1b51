import type { Endpoint } from '../endpoint.ts';
import type { CollectiveOptions } from './all-reduce.ts';
import { ringAllGather } from './allgather.ts';
import { recursiveDoublingAllGather } from './allgather-recursive-doubling.ts';
import type { UnitTimer } from './run-sized-unit.ts';

/**
 * The collective options of each endpoint, set once by whoever creates it (the worker host), so
 * collectives deep inside an algorithm (the compressors' all-gather) follow `topology.collective`
 * without threading options through every call.
 */
const byEndpoint = new WeakMap<Endpoint, CollectiveOptions>();

export function configureCollectives(ep: Endpoint, o: CollectiveOptions): void {
  byEndpoint.set(ep, o);
  phaseLogs.set(ep, []);
}

/**
 * Collective phases of an endpoint since they were last drained: [name, start, end] in virtual
 * time, consecutive rounds of one phase merged (the Gantt chart names them). Kept only for
 * endpoints configured by a worker host.
 */
const phaseLogs = new WeakMap<Endpoint, [string, number, number][]>();

export function logPhase(ep: Endpoint, name: string, start: number, end: number): void {
  const log = phaseLogs.get(ep);
  if (!log) return;
  const last = log[log.length - 1];
  if (last && last[0] === name && last[2] >= start) last[2] = Math.max(last[2], end);
  else log.push([name, start, end]);
}

export function drainPhases(ep: Endpoint): [string, number, number][] {
  const log = phaseLogs.get(ep);
  if (!log || log.length === 0) return [];
  return log.splice(0, log.length);
}

export function collectivesOf(ep: Endpoint): CollectiveOptions | undefined {
  return byEndpoint.get(ep);
}

/**
 * The timer of message-by-message collectives timed as a unit (max-min on a cut-through
 * topology: CollectiveOptions.messagesAsUnit), or undefined when their messages keep the link model.
 */
export function messageUnitTimer(ep: Endpoint): UnitTimer | undefined {
  const o = byEndpoint.get(ep);
  return o?.messagesAsUnit ? o.timeAsUnit : undefined;
}

/**
 * All-gather of variable-size payloads with the configured algorithm: recursive doubling when
 * `topology.collective` is recursive-doubling or halving-doubling (lg n messages per rank),
 * otherwise the ring (n-1 messages; also for auto, whose choice would need every payload's size).
 * Timed as a unit where the run times message collectives so (messageUnitTimer).
 */
export function allGather(ep: Endpoint, payload: Uint8Array): Promise<Uint8Array[]> {
  const kind = byEndpoint.get(ep)?.collective;
  const unit = messageUnitTimer(ep);
  if (kind === 'recursive-doubling' || kind === 'halving-doubling') return recursiveDoublingAllGather(ep, payload, unit);
  return ringAllGather(ep, payload, unit);
}
