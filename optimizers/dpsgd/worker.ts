import { Identity } from '../../comm/compress/identity.ts';
import { mixRow } from '../../comm/gossip/gossip-step.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import type { GossipConfig } from '../common/gossip-options.ts';
import { monitorGossip } from '../common/gossip-monitor.ts';
import { setUpGossip } from '../common/gossip-setup.ts';
import { computeGradient, yieldToEventLoop, type WorkerContext } from '../worker-context.ts';

export type DpsgdConfig = SgdHyperparameters &
  GossipConfig & {
    /** Lian et al.'s order: send x_i at the step's start, gossip while the gradient is computed. */
    overlap?: boolean;
  };

/**
 * Decentralized parallel SGD (D-PSGD; Lian et al. 2017), worker i. Default order, "local step
 * then gossip" (Koloskova et al. 2019/2020, also CHOCO-SGD's):
 *
 *   for t = 1..T:
 *     g_i      = ∇f(x_i; batch_i)                          (clock += compute time)
 *     x_half_i = SGD(x_i, g_i)                             (local momentum buffer)
 *     send m_i = x_half_i (fp32) to every neighbour j with W_ij > 0, receive their m_j
 *     x_i      = W_ii x_half_i + sum_{j ~ i} W_ij m_j      (comm/gossip mixRow)
 *
 * `overlap: true` is Lian et al.'s Algorithm 1: m_i = x_i is sent when the step starts, the
 * gradient at x_i is computed while it travels, and x_i = sum_j W_ij m_j - SGD step with g_i;
 * the step's time is max(compute, communication) instead of their sum.
 *
 * With `privacy`, m_i = clip(.) + N(0, sigma^2 I): the neighbours mix the private message, the
 * worker keeps its own clean copy. With W = 11^T/n (and no overlap) every worker ends the step
 * with the mean of the x_half_j: all-reduce SGD up to float rounding (README of this folder).
 */
export async function runDpsgd(ctx: WorkerContext, cfg: DpsgdConfig): Promise<void> {
  const { ep } = ctx;
  const d = ctx.oracle.paramCount;
  const g = setUpGossip(ctx, cfg, 'dpsgd');
  const codec = new Identity();
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const velocity = new Float32Array(d);
  const mixed = new Float32Array(d);
  const message = new Float32Array(d);
  // The row's vectors in its (ascending worker) order: the worker's own model, the neighbours' messages.
  const vectors = Array.from(g.row.index, (j) => (j === ctx.rank ? params : new Float32Array(d)));
  const others = vectors.filter((_, c) => c !== g.self);
  const encode = (x: Float32Array): Uint8Array => {
    if (!g.privacy) return codec.encode(x);
    message.set(x);
    g.privacy.apply(message);
    return codec.encode(message);
  };
  const mix = (received: readonly Uint8Array[]): void => {
    received.forEach((p, c) => codec.decode(p, others[c]!));
    mixRow(mixed, g.row.weight, vectors);
    params.set(mixed);
  };
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    let local;
    let commStart;
    if (cfg.overlap) {
      const op = g.exchange.send(encode(params));
      local = computeGradient(ctx, step, params, grad);
      commStart = ep.now;
      mix(await g.exchange.receive(op));
      sgdStep(params, grad, velocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
    } else {
      local = computeGradient(ctx, step, params, grad);
      commStart = ep.now;
      sgdStep(params, grad, velocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
      mix(await g.exchange.exchange(encode(params)));
    }
    await yieldToEventLoop();
    // comm: the time the step waited for its neighbours after its own work.
    ctx.reportStep(step, local.loss, local.compute, local.delay, ep.now - commStart, local.wallSec, local.cpuSec);
    await monitorGossip(ctx, step, params, cfg.evaluate, g.privacy?.spent(step));
  }
}
