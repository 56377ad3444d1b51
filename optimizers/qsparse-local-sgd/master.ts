import { f32Bytes } from '../../comm/collectives/chunks.ts';
import type { Compressor } from '../../comm/compress/compressor.ts';
import { admitPush, receiveNthPush, reply } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Message } from '../../comm/message.ts';
import { ASYNC_NAMESPACE, asyncPushCount } from './worker.ts';

/**
 * The master of asynchronous Qsparse-local-SGD, on the parameter-server endpoint (rank n).
 *
 * Workers push compressed model changes whenever their own schedule says so and block for the
 * reply (the current global model). The master applies pushes in virtual-time order of sending
 * (ties by rank) — equivalently arrival order on its shared ingress link — which makes the run
 * deterministic whatever order the bytes arrive in on the wall clock.
 *
 * Conservative rule: the earliest pending push (send time t, rank r) may be applied once no
 * other worker can still send one earlier. A worker without a pending push cannot send before
 * its last reply arrived (`lowerBound`), and a worker that made all its pushes never will.
 */
export async function runQsparseAsyncMaster(
  server: Endpoint,
  compressor: Compressor,
  initialParams: Float32Array,
  steps: number,
  periods: number[],
): Promise<void> {
  const n = server.size;
  const model = Float32Array.from(initialParams);
  const pushesLeft = periods.map((h) => asyncPushCount(steps, h));
  const lowerBound = new Array<number>(n).fill(0);
  const nextOp = new Array<number>(n).fill(0);
  const pending: (Message | null)[] = new Array<Message | null>(n).fill(null);
  const waiting = new Map<number, Promise<{ r: number; m: Message }>>();
  const inv = 1 / n;

  const expect = (r: number) => {
    if (pending[r] || pushesLeft[r] === 0 || waiting.has(r)) return;
    const p = receiveNthPush(server, r, ASYNC_NAMESPACE, nextOp[r]! + 1).then((m) => ({ r, m }));
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
      admitPush(server, best, msg);
      compressor.decodeAdd(msg.payload, model, -inv);
      reply(server, best, msg, f32Bytes(model, 0, model.length));
      // The worker cannot push again before this reply reaches it, which is after now.
      lowerBound[best] = server.now;
      pushesLeft[best]!--;
      nextOp[best]!++;
      expect(best);
    }
    if (pushesLeft.every((k) => k === 0)) return;
    if (waiting.size === 0) throw new Error('async master: no push can arrive but workers are not done');
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
