import { pushAndAwaitReply } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';

/** A round as the worker reports it: the reply, and the step's compute, delay and comm seconds. */
export interface AbandonedRound {
  /** The master's reply (its payload: the new model and whatever the algorithm appends). */
  payload: Uint8Array;
  /** Compute and injected delay shown for the step: only what ran before the reply arrived. */
  compute: number;
  delay: number;
  /** From the push's send to the reply's arrival (0 if the reply was there before the push left). */
  comm: number;
}

/**
 * One worker round against a master that may not wait for everyone (gradient coding, backup
 * workers, encoded optimization, sequential gradient coding): spend `compute` + `delay` of
 * virtual time, push `payload`, wait for the round's reply, and end the step at its arrival.
 * A straggler's reply can arrive before it finished: it then abandons its work (in a real
 * system the new model cancels the stale task), so the clock moves to the arrival, not past
 * it, and only the compute and delay before that instant are reported (timeline, breakdown).
 * One helper, so the four masters' workers cannot disagree on what a straggler's step shows.
 */
export async function pushAbandoning(ep: Endpoint, namespace: string, payload: Float32Array, compute: number, delay: number): Promise<AbandonedRound> {
  const start = ep.now;
  ep.now += compute + delay;
  const sentAt = ep.now;
  const reply = await pushAndAwaitReply(ep, namespace, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), true);
  ep.now = reply.arrival;
  const ran = Math.max(0, ep.now - start);
  const shownCompute = Math.min(compute, ran);
  return { payload: reply.payload, compute: shownCompute, delay: Math.min(delay, ran - shownCompute), comm: Math.max(0, ep.now - sentAt) };
}
