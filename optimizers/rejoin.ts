import { bytesToF32 } from '../comm/collectives/chunks.ts';
import type { Endpoint } from '../comm/endpoint.ts';

/*
 * Rejoining after a crash (fault timeline `rejoin: N`), for the algorithms whose master carries
 * on without a crashed worker (gradient coding, DiLoCo on a star). The replacement is a fresh
 * worker — a new process over ws — with no state but the model the master sends it.
 */

/**
 * Who receives a round's model: the workers that took part, and those alive at the next step —
 * a crashed worker's replacement joins with it (FaultSchedule.rejoinRound), in rank order.
 */
export function recipients(live: readonly number[], next: readonly number[]): number[] {
  return [...new Set([...live, ...next])].sort((a, b) => a - b);
}

/** Where a crashed worker's replacement picks up: the round's wire op and its model. */
export async function receiveRejoinModel(ep: Endpoint, namespace: string, roundIndex: number, model: Float32Array): Promise<void> {
  // Its ops continue where the rounds are: round i (1-based) is the namespace's i-th op.
  ep.setOpCount(namespace, roundIndex - 1);
  const op = ep.nextOp(namespace);
  const reply = await ep.recvRaw(ep.size, op, 1);
  model.set(bytesToF32(reply.payload));
  // A fresh worker's clock starts when the model reaches it.
  ep.now = reply.arrival;
}
