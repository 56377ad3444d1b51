import { receiveNthPush, reply, replyDecided } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Message } from '../../comm/message.ts';

/**
 * The asynchronous master's event loop (async SGD, asynchronous Qsparse), on the
 * parameter-server endpoint (rank n). Workers push whenever their own schedule says so and block
 * for the reply. Under `fifo` pushes are applied in virtual-time order of sending (ties by
 * rank) -- the arrival order on a first-come-first-served ingress link -- and under max-min in
 * the order they complete on the shared ingress (below); either way the order of updates is a
 * function of virtual time only, whatever order the bytes arrive in on the wall clock.
 *
 * Conservative rule: the earliest pending push (send time t, rank r) may be applied once no
 * other worker can still send one earlier. Under max-min sharing the ingress is a port shared
 * by the pushes in flight (`LinkTiming.ingressQueue`): pushes are applied in the order they
 * complete there (ties by rank), the next one once no other worker can still start a push
 * before its last bit leaves. A worker without a pending push cannot send before
 * its last reply arrived (`lowerBound`), and a worker that made all its pushes never will.
 *
 * Under max-min the replies share the egress the same way (`LinkTiming.egressQueue`): each is
 * entered when its push is applied (start = the master's clock then) and held until its end is
 * final, i.e. until no reply not yet entered can start before it. The next reply starts when the
 * master applies the next push, at max(its clock, that push's arrival), so it starts no earlier
 * than the master's clock nor than the least of: the ingress port's next completion (for a
 * worker with a pending push), the egress port's next completion (for a worker waiting on a
 * held reply: its next push follows that reply's arrival, which is no earlier than the least
 * tentative end, as entering more replies only slows the ones in the port), or its `lowerBound`
 * (a worker whose reply was released). Held replies are released, with their decided arrival,
 * in the order they complete; a released worker's `lowerBound` is then its reply's arrival.
 *
 * Why this cannot deadlock: say no push can be applied, no reply released and every push
 * received so far is pending. Let eI, eE be the ports' next completions (Infinity when empty).
 * If every worker with pushes left has a pending push or a held reply, the egress bound is at
 * least min(eI, eE), so a held reply is released unless eI < eE; then the push ending at eI is
 * applied, because the only workers without a pending push are held ones, whose bound is eE.
 * With neither, every worker is done. So a stuck loop always has a worker with pushes left whose
 * reply was released: it will push (in wall-clock time), and the loop waits for that push.
 * Every step applies a push, releases a reply or receives a push, so the loop ends.
 *
 * `apply(worker, msg, k)` handles worker's k-th push (1, 2, ...) -- admit it, update -- and
 * returns the reply's payload, which it must not modify afterwards (the reply may leave later).
 * Resolves once every worker made `pushes[r]` pushes and got its replies, or when the endpoint
 * closes (the run is over or failed).
 */
export async function applyPushesInVirtualTimeOrder(
  server: Endpoint,
  namespace: string,
  pushes: readonly number[],
  apply: (worker: number, msg: Message, k: number) => Uint8Array,
  who: string,
): Promise<void> {
  const n = pushes.length;
  const pushesLeft = [...pushes];
  const lowerBound = new Array<number>(n).fill(0);
  const applied = new Array<number>(n).fill(0);
  const pending: (Message | null)[] = new Array<Message | null>(n).fill(null);
  /** Replies entered on the egress port and not yet released (at most one per worker: it waits for it). */
  const held: ({ op: number; payload: Uint8Array; start: number } | null)[] = new Array(n).fill(null);
  const waiting = new Map<number, Promise<{ r: number; m: Message }>>();

  const expect = (r: number) => {
    if (pending[r] || pushesLeft[r] === 0 || waiting.has(r)) return;
    const p = receiveNthPush(server, r, namespace, applied[r]! + 1).then((m) => ({ r, m }));
    // When the run ends or fails every pending receive rejects; only the race below listens.
    p.catch(() => {});
    waiting.set(r, p);
  };

  // Max-min sharing of the ingress: pushes complete in the port's order (src/sim/shared-port.ts);
  // and of the egress: replies complete in its order. Both exist exactly on a shared star under max-min.
  const port = server.linkTiming.ingressQueue?.(server.rank) ?? null;
  const egress = port ? (server.linkTiming.egressQueue?.(server.rank) ?? null) : null;

  /** Apply worker w's pending push and answer it (on the egress port, or at once). */
  const applyPending = (w: number) => {
    const msg = pending[w]!;
    pending[w] = null;
    const payload = apply(w, msg, applied[w]! + 1);
    if (egress) {
      egress.add(w, applied[w]! + 1, payload.byteLength, server.now);
      held[w] = { op: msg.op, payload, start: server.now };
    } else {
      reply(server, w, msg, payload);
      // The worker cannot push again before this reply reaches it, which is after now.
      lowerBound[w] = server.now;
    }
    pushesLeft[w]!--;
    applied[w]!++;
    expect(w);
  };

  /** The next push to complete on the ingress port, once final. */
  const applyNextPush = (): boolean => {
    const next = port!.peek();
    if (!next) return false;
    // Workers without a pending push send no earlier than their last reply's arrival: its
    // lowerBound once released, the egress port's next completion while held.
    const heldEnd = egress?.peek()?.end ?? Infinity;
    for (let w = 0; w < n; w++) {
      if (pending[w] || pushesLeft[w] === 0) continue;
      if ((held[w] ? heldEnd : lowerBound[w]!) < next.end) return false;
    }
    port!.commit();
    // The receiver timed it: admitPush takes this arrival.
    pending[next.from]!.arrival = next.arrival;
    applyPending(next.from);
    return true;
  };

  /** The next reply to complete on the egress port, once no reply still to come can start before its end. */
  const releaseNextReply = (): boolean => {
    const next = egress!.peek();
    if (!next) return false;
    if (next.end > server.now) {
      const pushEnd = port!.peek()?.end ?? Infinity;
      for (let w = 0; w < n; w++) {
        // A held worker's next push follows its reply, which ends no earlier than next.end.
        if (pushesLeft[w] === 0 || held[w]) continue;
        if ((pending[w] ? pushEnd : lowerBound[w]!) < next.end) return false;
      }
    }
    egress!.commit();
    const h = held[next.from]!;
    held[next.from] = null;
    replyDecided(server, next.from, h.op, h.payload, h.start, next.arrival);
    lowerBound[next.from] = next.arrival;
    return true;
  };

  for (;;) {
    for (let r = 0; r < n; r++) expect(r);
    // Apply every push and release every reply that is safe now.
    for (let progress = port !== null; progress; ) {
      progress = false;
      while (applyNextPush()) progress = true;
      while (egress && releaseNextReply()) progress = true;
    }
    for (; !port; ) {
      let best = -1;
      for (let r = 0; r < n; r++) {
        const p = pending[r];
        if (p && (best < 0 || p.sendTime < pending[best]!.sendTime)) best = r;
      }
      if (best < 0) break;
      const t = pending[best]!.sendTime;
      let safe = true;
      for (let w = 0; w < n && safe; w++) {
        if (w === best || pending[w] || pushesLeft[w] === 0) continue;
        if (lowerBound[w]! < t || (lowerBound[w] === t && w < best)) safe = false;
      }
      if (!safe) break;
      applyPending(best);
    }
    if (pushesLeft.every((k) => k === 0) && held.every((h) => h === null)) return;
    if (waiting.size === 0) throw new Error(`${who}: no push can arrive but workers are not done`);
    let got: { r: number; m: Message };
    try {
      got = await Promise.race(waiting.values());
    } catch {
      return; // endpoint closed: the run is over or failed
    }
    waiting.delete(got.r);
    pending[got.r] = got.m;
    port?.add(got.r, applied[got.r]! + 1, got.m.payload.byteLength, got.m.sendTime);
  }
}
