import { admitPush, receiveNthPush, reply } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Message } from '../../comm/message.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep } from '../common/sgd-update.ts';
import { StalenessTracker, stalenessLrScale } from './staleness.ts';
import { ASYNC_SGD_NAMESPACE, PUSH_TRAILER, REPLY_TRAILER, type AsyncSgdConfig } from './worker.ts';

/** One applied update (for tests and the timeline). */
export interface AppliedUpdate {
  /** Server version after applying it (1, 2, ...). */
  version: number;
  worker: number;
  /** The worker's step that produced it. */
  step: number;
  staleness: number;
  /** Virtual time it was applied (its arrival on the ingress link). */
  at: number;
}

/**
 * The parameter server of asynchronous SGD (rank n). Every worker pushes a gradient per step
 * and blocks for the reply. The master applies pushes in virtual send order (ties by rank) --
 * the arrival order on its FIFO ingress link -- with the conservative rule of the asynchronous
 * Qsparse master: the earliest pending push is applied once no other worker can still send an
 * earlier one (a worker without a pending push cannot send before its last reply reached it).
 * So the order of updates is a function of virtual time only, whatever order the bytes arrive
 * in on the wall clock.
 *
 * Update: x <- SGD(x, g) (torch.optim.SGD, the learning-rate schedule over server versions /
 * workers ~ steps), with lr / (1 + staleness) under `staleness: scale-lr`.
 */
export async function runAsyncSgdMaster(
  server: Endpoint,
  cfg: AsyncSgdConfig,
  initialParams: Float32Array,
  steps: number,
  onApply?: (u: AppliedUpdate) => void,
): Promise<StalenessTracker> {
  const n = server.size;
  const d = initialParams.length;
  const state = new Float32Array(d + REPLY_TRAILER);
  const model = state.subarray(0, d);
  model.set(initialParams);
  const velocity = new Float32Array(d);
  const grad = new Float32Array(d);
  const tracker = new StalenessTracker();
  const pushesLeft = new Array<number>(n).fill(steps);
  const lowerBound = new Array<number>(n).fill(0);
  const pending: (Message | null)[] = new Array<Message | null>(n).fill(null);
  const waiting = new Map<number, Promise<{ r: number; m: Message }>>();
  let version = 0;

  const expect = (r: number) => {
    if (pending[r] || pushesLeft[r] === 0 || waiting.has(r)) return;
    const p = receiveNthPush(server, r, ASYNC_SGD_NAMESPACE, steps - pushesLeft[r]! + 1).then((m) => ({ r, m }));
    p.catch(() => {}); // rejected when the run ends or fails; only the race below listens
    waiting.set(r, p);
  };

  for (;;) {
    for (let r = 0; r < n; r++) expect(r);
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
      const p = msg.payload;
      if (p.byteLength !== 4 * (d + PUSH_TRAILER)) throw new Error(`async-sgd master: push of ${p.byteLength} bytes from worker ${best}, expected ${4 * (d + PUSH_TRAILER)}`);
      const view = new Float32Array(p.slice().buffer);
      grad.set(view.subarray(0, d));
      const computedOn = view[d]!;
      admitPush(server, best, msg);
      const staleness = tracker.record(version, computedOn);
      const step = steps - pushesLeft[best]! + 1;
      const lr = learningRate(cfg.lr, cfg.schedule, step, steps) * stalenessLrScale(cfg.staleness, staleness);
      sgdStep(model, grad, velocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
      version++;
      state[d] = version;
      state[d + 1] = staleness;
      onApply?.({ version, worker: best, step, staleness, at: server.now });
      reply(server, best, msg, new Uint8Array(state.buffer.slice(0)));
      lowerBound[best] = server.now;
      pushesLeft[best]!--;
      expect(best);
    }
    if (pushesLeft.every((k) => k === 0)) return tracker;
    if (waiting.size === 0) throw new Error('async-sgd master: no push can arrive but workers are not done');
    let got: { r: number; m: Message };
    try {
      got = await Promise.race(waiting.values());
    } catch {
      return tracker; // endpoint closed: the run is over or failed
    }
    waiting.delete(got.r);
    pending[got.r] = got.m;
  }
}
