import { receiveNthPush } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Message } from '../../comm/message.ts';

/**
 * The asynchronous master's event loop (async SGD, asynchronous Qsparse), on the
 * parameter-server endpoint (rank n). Workers push whenever their own schedule says so and block
 * for the reply. Pushes are applied in virtual-time order of sending (ties by rank) -- the
 * arrival order on the master's FIFO ingress link -- so the order of updates is a function of
 * virtual time only, whatever order the bytes arrive in on the wall clock.
 *
 * Conservative rule: the earliest pending push (send time t, rank r) may be applied once no
 * other worker can still send one earlier. Under max-min sharing the ingress is a port shared
 * by the pushes in flight (`LinkTiming.ingressQueue`): pushes are applied in the order they
 * complete there (ties by rank), the next one once no other worker can still start a push
 * before its last bit leaves. A worker without a pending push cannot send before
 * its last reply arrived (`lowerBound`: the master's clock when it replied), and a worker that
 * made all its pushes never will.
 *
 * `apply(worker, msg, k)` handles worker's k-th push (1, 2, ...): admit it, update, reply.
 * Resolves once every worker made `pushes[r]` pushes, or when the endpoint closes (the run is
 * over or failed).
 */
export async function applyPushesInVirtualTimeOrder(
  server: Endpoint,
  namespace: string,
  pushes: readonly number[],
  apply: (worker: number, msg: Message, k: number) => void,
  who: string,
): Promise<void> {
  const n = pushes.length;
  const pushesLeft = [...pushes];
  const lowerBound = new Array<number>(n).fill(0);
  const applied = new Array<number>(n).fill(0);
  const pending: (Message | null)[] = new Array<Message | null>(n).fill(null);
  const waiting = new Map<number, Promise<{ r: number; m: Message }>>();

  const expect = (r: number) => {
    if (pending[r] || pushesLeft[r] === 0 || waiting.has(r)) return;
    const p = receiveNthPush(server, r, namespace, applied[r]! + 1).then((m) => ({ r, m }));
    // When the run ends or fails every pending receive rejects; only the race below listens.
    p.catch(() => {});
    waiting.set(r, p);
  };

  // Max-min sharing of the ingress: pushes complete in the port's order (src/sim/shared-port.ts).
  const port = server.linkTiming.ingressQueue?.(server.rank) ?? null;
  for (;;) {
    for (let r = 0; r < n; r++) expect(r);
    // Apply every push that is safe now.
    for (; port; ) {
      // The next push to complete among the pending ones is final once no other worker can
      // still start one before its end: workers without a pending push send no earlier than
      // their last reply (lowerBound), workers with one are waiting for its reply.
      const next = port.peek();
      if (!next) break;
      let safe = true;
      for (let w = 0; w < n && safe; w++) {
        if (pending[w] || pushesLeft[w] === 0) continue;
        if (lowerBound[w]! < next.end) safe = false;
      }
      if (!safe) break;
      port.commit();
      const best = next.from;
      const msg = pending[best]!;
      pending[best] = null;
      // The receiver timed it: admitPush takes this arrival.
      msg.arrival = next.arrival;
      apply(best, msg, applied[best]! + 1);
      lowerBound[best] = server.now;
      pushesLeft[best]!--;
      applied[best]!++;
      expect(best);
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
      const msg = pending[best]!;
      pending[best] = null;
      apply(best, msg, applied[best]! + 1);
      // The worker cannot push again before this reply reaches it, which is after now.
      lowerBound[best] = server.now;
      pushesLeft[best]!--;
      applied[best]!++;
      expect(best);
    }
    if (pushesLeft.every((k) => k === 0)) return;
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
