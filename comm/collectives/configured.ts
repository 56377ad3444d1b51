import type { Endpoint } from '../endpoint.ts';
import type { CollectiveOptions } from './all-reduce.ts';
import { ringAllGather } from './allgather.ts';
import { recursiveDoublingAllGather } from './allgather-recursive-doubling.ts';

/**
 * The collective options of each endpoint, set once by whoever creates it (the worker host), so
 * collectives deep inside an algorithm (the compressors' all-gather) follow `topology.collective`
 * without threading options through every call.
 */
const byEndpoint = new WeakMap<Endpoint, CollectiveOptions>();

export function configureCollectives(ep: Endpoint, o: CollectiveOptions): void {
  byEndpoint.set(ep, o);
}

export function collectivesOf(ep: Endpoint): CollectiveOptions | undefined {
  return byEndpoint.get(ep);
}

/**
 * All-gather of variable-size payloads with the configured algorithm: recursive doubling when
 * `topology.collective` is recursive-doubling or halving-doubling (lg n messages per rank),
 * otherwise the ring (n-1 messages; also for auto, whose choice would need every payload's size).
 */
export function allGather(ep: Endpoint, payload: Uint8Array): Promise<Uint8Array[]> {
  const kind = byEndpoint.get(ep)?.collective;
  if (kind === 'recursive-doubling' || kind === 'halving-doubling') return recursiveDoublingAllGather(ep, payload);
  return ringAllGather(ep, payload);
}
