import { namespacedOp, type Endpoint } from '../endpoint.ts';
import type { Message } from '../message.ts';

/*
 * Push/pull between workers and a master on the parameter-server endpoint (rank n of a star):
 * the worker pushes a payload on the next op of a namespace and waits for the master's reply on
 * the same op. Message tags live here, so algorithms never spell them out.
 */

/** Tag of a push (worker to master). */
export const PUSH = 0;
/** Tag of the master's reply to a push (its round's model). */
export const ROUND_REPLY = 1;
/**
 * Tag of the model sent to a crashed worker's replacement. Transports hold such messages until
 * the replacement is ready: it may not exist yet, and its dying predecessor must not swallow them.
 */
export const REJOIN_MODEL = 2;
/**
 * The wire op of that message (one crash per worker, so one op serves every worker): block 0 of
 * the upper half, which no namespace uses (namespacedOp hands out blocks 1-15).
 */
export const REJOIN_OP = 0x80000001;

/**
 * Worker side: push `payload` to the master and wait for its reply. `raw`: the reply is returned
 * without moving the clock (the caller decides what its arrival means); else the clock advances
 * to the arrival.
 */
export async function pushAndAwaitReply(ep: Endpoint, namespace: string, payload: Uint8Array, raw = false): Promise<Message> {
  const op = ep.nextOp(namespace);
  ep.send(ep.size, op, PUSH, payload);
  return raw ? ep.recvRaw(ep.size, op, ROUND_REPLY) : ep.recv(ep.size, op, ROUND_REPLY);
}

/** Master side: the k-th (1-based) push of worker `from` in `namespace` (as its nextOp numbered it). */
export function receiveNthPush(server: Endpoint, from: number, namespace: string, k: number): Promise<Message> {
  return server.recvRaw(from, namespacedOp(namespace, k), PUSH);
}

/**
 * Master side: put a received push on the server's shared ingress link at its virtual send time
 * (the caller decides the order: virtual send time, then rank) and advance the master's clock to
 * its arrival (under max-min, applyPushesInVirtualTimeOrder's ingress port has timed it already).
 */
export function admitPush(server: Endpoint, from: number, push: Message): void {
  // A push on the shared ingress that the max-min port already timed keeps that arrival.
  const timed = !Number.isNaN(push.arrival) && server.linkTiming.isShared(from, server.rank);
  const arrival = timed ? push.arrival : server.linkTiming.transmit(from, server.rank, push.payload.byteLength, push.sendTime);
  server.now = Math.max(server.now, arrival);
}

/** Master side: answer a push (same op) at the master's current virtual time. */
export function reply(server: Endpoint, to: number, push: Message, payload: Uint8Array): void {
  server.send(to, push.op, ROUND_REPLY, payload);
}

/**
 * Master side: answer a push (same op) with a reply whose virtual send and arrival times were
 * decided on the server's egress port (an asynchronous master under max-min sharing).
 */
export function replyDecided(server: Endpoint, to: number, pushOp: number, payload: Uint8Array, sendTime: number, arrival: number): void {
  server.sendDecided(to, pushOp, ROUND_REPLY, payload, sendTime, arrival);
}
