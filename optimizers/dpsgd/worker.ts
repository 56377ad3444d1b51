import { Identity } from '../../comm/compress/identity.ts';
import { mixRow } from '../../comm/gossip/gossip-step.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import type { GossipConfig } from '../common/gossip-options.ts';
import { monitorGossip } from '../common/gossip-monitor.ts';
import { setUpGossip } from '../common/gossip-setup.ts';
import { computeGradient, yieldToEventLoop, type WorkerContext } from '../worker-context.ts';

export type DpsgdConfig = SgdHyperparameters & GossipConfig;

/**
 * Decentralized parallel SGD (D-PSGD; Lian et al. 2017), in the "adapt then combine" order of
 * Koloskova et al. 2019/2020 (local step, then gossip), worker i:
 *
 *   for t = 1..T:
 *     g_i      = ∇f(x_i; batch_i)                          (clock += compute time)
 *     x_half_i = SGD(x_i, g_i)                             (local momentum buffer)
 *     send m_i = x_half_i (fp32) to every neighbour j with W_ij > 0, receive their m_j
 *     x_i      = W_ii x_half_i + sum_{j ~ i} W_ij m_j      (comm/gossip mixRow)
 *
 * With `privacy`, m_i = clip(x_half_i) + N(0, sigma^2 I): the neighbours mix the private message,
 * the worker keeps its own x_half_i. With W = 11^T/n every worker ends the step with the mean of
 * the x_half_j: all-reduce SGD up to float rounding (README of this folder).
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
  // The row's vectors in its (ascending worker) order: the worker's own x_half, the neighbours' messages.
  const vectors = Array.from(g.row.index, (j) => (j === ctx.rank ? params : new Float32Array(d)));
  const others = vectors.filter((_, c) => c !== g.self);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const local = computeGradient(ctx, step, params, grad);
    const commStart = ep.now;
    sgdStep(params, grad, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    let sent = params;
    if (g.privacy) {
      message.set(params);
      g.privacy.apply(message);
      sent = message;
    }
    const received = await g.exchange.exchange(codec.encode(sent));
    received.forEach((p, c) => codec.decode(p, others[c]!));
    mixRow(mixed, g.row.weight, vectors);
    params.set(mixed);
    await yieldToEventLoop();
    ctx.reportStep(step, local.loss, local.compute, local.delay, ep.now - commStart, local.wallSec, local.cpuSec);
    await monitorGossip(ctx, step, params, cfg.evaluate, g.privacy?.spent(step));
  }
}
