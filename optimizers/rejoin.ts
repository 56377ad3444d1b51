import { bytesToF32 } from '../comm/collectives/chunks.ts';
import type { Endpoint } from '../comm/endpoint.ts';

/*
 * Rejoining after a crash (fault timeline `rejoin: N`), for the algorithms whose master carries
 * on without a crashed worker (gradient coding, DiLoCo on a star). The replacement is a fresh
 * worker — a new process over ws — with no state but the model the master sends it.
 */

/** Message tag of a master's reply to the round's workers. */
export const ROUND_REPLY = 1;
/**
 * Message tag of the round's model sent to a crashed worker's replacement. Transports hold such
 * messages until the replacement is ready: the replacement may not exist yet, and its dying
 * predecessor must not swallow them.
 */
export const REJOIN_MODEL = 2;

/**
 * Send a round's model: to the workers that took part (`live`), and to those alive at the next
 * step but not in this round — a crashed worker's replacement (FaultSchedule.rejoinRound) — in
 * rank order (one outgoing link: the order decides the arrival times).
 */
export function sendRoundModel(server: Endpoint, op: number, live: readonly number[], next: readonly number[], model: Uint8Array): void {
  const taking = new Set(live);
  for (const r of [...new Set([...live, ...next])].sort((a, b) => a - b)) server.send(r, op, taking.has(r) ? ROUND_REPLY : REJOIN_MODEL, model);
}

/** Where a crashed worker's replacement picks up: the round's wire op and its model. */
export async function receiveRejoinModel(ep: Endpoint, namespace: string, roundIndex: number, model: Float32Array): Promise<void> {
  if (!(roundIndex >= 1)) throw new Error(`rejoin: no master round ${roundIndex} to join at`);
  // Its ops continue where the rounds are: round i (1-based) is the namespace's i-th op.
  ep.setOpCount(namespace, roundIndex - 1);
  const op = ep.nextOp(namespace);
  const reply = await ep.recvRaw(ep.size, op, REJOIN_MODEL);
  model.set(bytesToF32(reply.payload));
  // A fresh worker's clock starts when the model reaches it.
  ep.now = reply.arrival;
}
