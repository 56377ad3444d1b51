import type { Endpoint } from '../endpoint.ts';
import type { Message } from '../message.ts';

/**
 * Receive one push from each of `ranks` for `op` and time them on the server's shared ingress
 * link in (virtual send time, rank) order, the FIFO order of the link (under max-min: together,
 * `timeRoundTogether`). `accept` sees them in arrival order: see the comments below for exactly
 * when that differs from send order. Returns the messages with
 * their virtual arrival times (indexed like `ranks`), or null when the endpoint was closed.
 * Every master uses this, so contention is decided by virtual time, never by wall-clock order.
 */
export async function receivePushes(
  server: Endpoint,
  ranks: readonly number[],
  op: number,
  /**
   * Masters that ignore late pushes say which they take (k-th in arrival order, its would-be
   * arrival, and the push itself: its rank and virtual send time). Ignored pushes are not put
   * on the link: a straggler's push of this round must not delay the next round's earlier
   * pushes (the link is FIFO in virtual send time).
   */
  accept: (k: number, arrival: number, taken: number[], push: { r: number; m: Message }) => boolean = () => true,
): Promise<{ r: number; m: Message; at: number; used: boolean }[] | null> {
  let msgs: Message[];
  try {
    msgs = await Promise.all(ranks.map((r) => server.recvRaw(r, op, 0)));
  } catch {
    return null;
  }
  const out = msgs.map((m, k) => ({ r: ranks[k]!, m, at: 0, used: false }));
  const bySend = [...out].sort((x, y) => x.m.sendTime - y.m.sendTime || x.r - y.r);
  const timing = server.linkTiming;
  if (bySend.length > 0 && bySend.every((p) => Number.isNaN(p.m.arrival)) && timeRoundTogether(server, bySend, accept)) return out;
  // Pushes their senders timed (each on a port of its own: a star with shared: false, either
  // sharing) arrive independently: `accept` sees them in arrival order (ties by rank), so "the
  // first k" are the first k to arrive even when ports differ (per-node overrides, traces,
  // faults). Timing nothing on the server, the order changes no arrival. Pushes into the shared
  // port under fifo are served in (send time, rank) order, the FIFO order of the link: they
  // arrive in that order unless the port's latency drops during the round (a latency trace or
  // link fault), or a partition holds an earlier push back (it still takes its place in the queue).
  const order = bySend.every((p) => !Number.isNaN(p.m.arrival)) ? [...out].sort((x, y) => x.m.arrival - y.m.arrival || x.r - y.r) : bySend;
  const taken: number[] = [];
  order.forEach((p, k) => {
    const bytes = p.m.payload.byteLength;
    // A push on a port of its own (a star with shared: false) was timed by its sender.
    const timed = !Number.isNaN(p.m.arrival);
    const est = timed ? p.m.arrival : timing.estimate ? timing.estimate(p.r, server.rank, bytes, p.m.sendTime) : Number.NaN;
    if (Number.isNaN(est) || accept(k, est, taken, p)) {
      p.at = timed ? p.m.arrival : timing.transmit(p.r, server.rank, bytes, p.m.sendTime);
      p.used = true;
      taken.push(p.at);
    } else p.at = est;
  });
  return out;
}

/** All ranks 0..n-1 of a server endpoint's workers. */
export function allWorkers(server: Endpoint): number[] {
  return Array.from({ length: server.size }, (_, r) => r);
}

/**
 * Max-min sharing of the server's port: the round's pushes are simulated together as flows on
 * the shared ingress (the network model's `timeTogether`), and `accept` sees them in arrival
 * order (ties by rank; k counts every push, taken or not, as under fifo). Returns
 * false under fifo sharing (the caller times them one by one in send order).
 */
function timeRoundTogether(
  server: Endpoint,
  pushes: { r: number; m: Message; at: number; used: boolean }[],
  accept: (k: number, arrival: number, taken: number[], push: { r: number; m: Message }) => boolean,
): boolean {
  const timing = server.linkTiming;
  if (!timing.timeTogether) return false;
  const arrivals = timing.timeTogether(
    pushes.map((p) => ({ from: p.r, to: server.rank, bytes: p.m.payload.byteLength, sendTime: p.m.sendTime })),
    (at) => {
      const order = pushes.map((_, i) => i).sort((x, y) => at[x]! - at[y]! || pushes[x]!.r - pushes[y]!.r);
      const taken: number[] = [];
      order.forEach((i, k) => {
        if (accept(k, at[i]!, taken, pushes[i]!)) {
          pushes[i]!.used = true;
          taken.push(at[i]!);
        }
      });
      return pushes.map((p) => p.used);
    },
  );
  if (!arrivals) return false;
  pushes.forEach((p, i) => (p.at = arrivals[i]!));
  return true;
}
