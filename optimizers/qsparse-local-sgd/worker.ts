import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import { pushAndAwaitReply } from '../../comm/collectives/push-pull.ts';
import { CompressedExchange, type ExchangeConfig } from '../../comm/communicator.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, segmentsOf, type WorkerContext } from '../worker-context.ts';

export interface QsparseConfig extends ExchangeConfig, SgdHyperparameters {
  /** Local steps between synchronizations (sync mode, and async workers without their own). */
  localSteps: number;
  /** Async: per-worker synchronization periods H_r (length = workers). */
  syncEvery?: number[];
  mode: 'sync' | 'async';
}

/** Op namespace of the asynchronous push/pull between a worker and the master. */
export const ASYNC_NAMESPACE = 'qsparse-async';

/** Number of pushes worker r makes in T steps with period H: every H steps and at the end. */
export function asyncPushCount(steps: number, period: number): number {
  return Math.ceil(steps / period);
}

export function periodOf(cfg: QsparseConfig, rank: number): number {
  return cfg.syncEvery?.[rank] ?? cfg.localSteps;
}

/**
 * Qsparse-local-SGD (Basu et al., 2019). Each worker runs momentum SGD on its own copy x̂ and,
 * every H steps, sends the compressed change of its model since the last synchronization,
 * Δ = x - x̂, with error compensation (the part not sent stays in the memory and is sent later).
 *
 *   for t = 1..T:
 *     x̂_i = SGD(x̂_i, ∇f(x̂_i; batch_i))
 *     if t ∈ sync steps:                               (every H steps, and the last)
 *       p_i = C(m_i + x - x̂_i);  m_i = m_i + x - x̂_i - D(p_i)
 *       x = x - (1/n) Σ_j D(p_j);  x̂_i = x           (sync: all workers at once)
 *       or: push p_i to the master, continue from the model it returns   (async)
 *
 * - sync: all workers synchronize at the same steps; the average of the decoded changes is
 *   applied to the shared model x, and x̂ restarts from x.
 * - async: worker r synchronizes on its own period H_r with the master (rank n, star topology),
 *   which applies updates in virtual-arrival order (see qsparse-async-master.ts) and returns
 *   the current global model; fast workers synchronize more often, nobody waits for stragglers.
 */
export async function runQsparseLocalSgd(ctx: WorkerContext, cfg: QsparseConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const local = Float32Array.from(ctx.initialParams); // x̂
  const global = Float32Array.from(ctx.initialParams); // x: the model at the last synchronization
  const grad = new Float32Array(d);
  const delta = new Float32Array(d);
  const avg = new Float32Array(d);
  const velocity = new Float32Array(d);
  const exchange = new CompressedExchange(cfg, d, segmentsOf(ctx.params), ctx.topology);
  const period = cfg.mode === 'sync' ? cfg.localSteps : periodOf(cfg, ctx.rank);
  let commSec = 0;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = computeGradient(ctx, step, local, grad);
    sgdStep(local, grad, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    commSec = 0;
    if (step % period === 0 || step === ctx.steps) {
      const commStart = ep.now;
      for (let i = 0; i < d; i++) delta[i] = global[i]! - local[i]!;
      if (cfg.mode === 'sync') {
        await exchange.average(ep, delta, ctx.uniform, avg);
        for (let i = 0; i < d; i++) global[i] = global[i]! - avg[i]!;
      } else {
        // Push the compressed change to the master; it answers with the current global model.
        const reply = await pushAndAwaitReply(ep, ASYNC_NAMESPACE, exchange.feedback.step(delta, ctx.uniform));
        global.set(bytesToF32(reply.payload));
      }
      local.set(global);
      commSec = ep.now - commStart;
    }
    await finishStep(ctx, step, computed, commSec, local);
  }
}

