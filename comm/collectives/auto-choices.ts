import type { Endpoint } from '../endpoint.ts';
import type { CollectiveKind } from './choices.ts';

/** One all-reduce `auto` ran: [virtual time the rank entered it, payload bytes, the collective]. */
export type AutoChoice = [number, number, CollectiveKind];

/**
 * The choices of `topology.collective: auto` on the endpoints asked to keep them (the worker
 * host keeps rank 0's: every rank makes the same choice), drained into each step report so the
 * run's summary can say what auto actually ran when the network changed under it.
 */
const logs = new WeakMap<Endpoint, AutoChoice[]>();

export function keepAutoChoices(ep: Endpoint): void {
  if (!logs.has(ep)) logs.set(ep, []);
}

export function logAutoChoice(ep: Endpoint, time: number, bytes: number, kind: CollectiveKind): void {
  logs.get(ep)?.push([time, bytes, kind]);
}

export function drainAutoChoices(ep: Endpoint): AutoChoice[] {
  const log = logs.get(ep);
  if (!log || log.length === 0) return [];
  return log.splice(0, log.length);
}
