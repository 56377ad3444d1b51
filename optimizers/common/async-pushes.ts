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
 * other worker can still send one earlier. A worker without a pending push cannot send before
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

  for (;;) {
    for (let r = 0; r < n; r++) expect(r);
    // Apply every push that is safe now.
    for (;;) {
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
  }
}
