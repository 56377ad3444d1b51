import type { Endpoint } from '../endpoint.ts';
import type { Message } from '../message.ts';

/**
 * Receive one push from each of `ranks` for `op` and time them on the server's shared ingress
 * link in (virtual send time, rank) order, the FIFO order of the link. Returns the messages with
 * their virtual arrival times (indexed like `ranks`), or null when the endpoint was closed.
 * Every master uses this, so contention is decided by virtual time, never by wall-clock order.
 */
export async function receivePushes(server: Endpoint, ranks: readonly number[], op: number): Promise<{ r: number; m: Message; at: number }[] | null> {
  let msgs: Message[];
  try {
    msgs = await Promise.all(ranks.map((r) => server.recvRaw(r, op, 0)));
  } catch {
    return null;
  }
  const out = msgs.map((m, k) => ({ r: ranks[k]!, m, at: 0 }));
  const bySend = [...out].sort((x, y) => x.m.sendTime - y.m.sendTime || x.r - y.r);
  for (const p of bySend) p.at = server.linkTiming.transmit(p.r, server.rank, p.m.payload.byteLength, p.m.sendTime);
  return out;
}

/** All ranks 0..n-1 of a server endpoint's workers. */
export function allWorkers(server: Endpoint): number[] {
  return Array.from({ length: server.size }, (_, r) => r);
}
