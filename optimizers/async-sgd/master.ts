import { admitPush } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { applyPushesInVirtualTimeOrder } from '../common/async-pushes.ts';
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
 * and blocks for the reply; pushes are applied in virtual-time order by the conservative rule
 * of `applyPushesInVirtualTimeOrder` (shared with the asynchronous Qsparse master).
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
  let version = 0;

  await applyPushesInVirtualTimeOrder(
    server,
    ASYNC_SGD_NAMESPACE,
    new Array<number>(n).fill(steps),
    (worker, msg, step) => {
      const p = msg.payload;
      if (p.byteLength !== 4 * (d + PUSH_TRAILER)) throw new Error(`async-sgd master: push of ${p.byteLength} bytes from worker ${worker}, expected ${4 * (d + PUSH_TRAILER)}`);
      const view = new Float32Array(p.slice().buffer);
      grad.set(view.subarray(0, d));
      const computedOn = view[d]!;
      admitPush(server, worker, msg);
      const staleness = tracker.record(version, computedOn);
      const lr = learningRate(cfg.lr, cfg.schedule, step, steps) * stalenessLrScale(cfg.staleness, staleness);
      sgdStep(model, grad, velocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
      version++;
      state[d] = version;
      state[d + 1] = staleness;
      onApply?.({ version, worker, step, staleness, at: server.now });
      // A copy: the reply may leave after later updates (it shares the egress with other replies).
      return new Uint8Array(state.buffer.slice(0));
    },
    'async-sgd master',
  );
  return tracker;
}
