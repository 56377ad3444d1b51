import { f32Bytes } from '../../comm/collectives/chunks.ts';
import type { Compressor } from '../../comm/compress/compressor.ts';
import { admitPush } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { applyPushesInVirtualTimeOrder } from '../common/async-pushes.ts';
import { ASYNC_NAMESPACE, asyncPushCount } from './worker.ts';

/**
 * The master of asynchronous Qsparse-local-SGD, on the parameter-server endpoint (rank n).
 *
 * Workers push compressed model changes whenever their own schedule says so and block for the
 * reply (the current global model). Pushes are applied in virtual-time order of sending (ties
 * by rank) by the conservative rule of `applyPushesInVirtualTimeOrder`, which makes the run
 * deterministic whatever order the bytes arrive in on the wall clock.
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
  const pushes = periods.map((h) => asyncPushCount(steps, h));
  const inv = 1 / n;
  await applyPushesInVirtualTimeOrder(
    server,
    ASYNC_NAMESPACE,
    pushes,
    (worker, msg) => {
      admitPush(server, worker, msg);
      compressor.decodeAdd(msg.payload, model, -inv);
      // A copy: the reply may leave after later updates (it shares the egress with other replies).
      return f32Bytes(model.slice(), 0, model.length);
    },
    'async master',
  );
}
