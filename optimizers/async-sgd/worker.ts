import { pushAndAwaitReply } from '../../comm/collectives/push-pull.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';
import type { StalenessPolicy } from './staleness.ts';

export interface AsyncSgdConfig extends SgdHyperparameters {
  staleness: StalenessPolicy;
}

/** Op namespace of the push/pull between an async-SGD worker and the master. */
export const ASYNC_SGD_NAMESPACE = 'async-sgd';

/*
 * Wire format. Push: the fp32 gradient, then one f32 holding the model version it was computed
 * on. Reply: the fp32 model, then two f32: its version and the staleness of the pushed gradient.
 * Versions count applied updates (at most workers x steps < 2^24, so an f32 holds them exactly);
 * these 4 and 8 bytes are counted like the rest of the payload.
 */
export const PUSH_TRAILER = 1;
export const REPLY_TRAILER = 2;

/**
 * Asynchronous SGD, the worker side:
 *
 *   x, v = initial model, version 0
 *   for t = 1..T:
 *     g = ∇f(x; batch)               (clock += compute time + injected delay)
 *     push (g, v) to the master; x, v = the model and version it returns
 *
 * Each worker runs on its own virtual clock; the master applies pushes in virtual-time order.
 */
// The staleness policy and SGD hyperparameters act on the server; the worker only computes.
export async function runAsyncSgdWorker(ctx: WorkerContext, _cfg: AsyncSgdConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const params = Float32Array.from(ctx.initialParams);
  const out = new Float32Array(d + PUSH_TRAILER);
  const grad = out.subarray(0, d);
  let version = 0;
  for (let step = 1; step <= ctx.steps; step++) {
    const c = computeGradient(ctx, step, params, grad);
    ctx.byzantine?.corrupt(step, params, grad);
    out[d] = version;
    const sentAt = ep.now;
    const reply = await pushAndAwaitReply(ep, ASYNC_SGD_NAMESPACE, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    const p = reply.payload;
    if (p.byteLength !== 4 * (d + REPLY_TRAILER)) throw new Error(`async-sgd: reply of ${p.byteLength} bytes, expected ${4 * (d + REPLY_TRAILER)}`);
    // ws buffers are not 4-byte aligned: copy before viewing.
    const view = new Float32Array(p.slice().buffer);
    params.set(view.subarray(0, d));
    version = view[d]!;
    await finishStep(ctx, step, c, Math.max(0, ep.now - sentAt), params, undefined, { staleness: view[d + 1]! });
  }
}
