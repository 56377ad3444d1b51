import { compressorFor, type ConfiguredCompressor } from '../../comm/communicator.ts';
import { ChocoGossip } from '../../comm/gossip/choco.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import type { GossipConfig } from '../common/gossip-options.ts';
import { monitorGossip } from '../common/gossip-monitor.ts';
import { setUpGossip } from '../common/gossip-setup.ts';
import { computeGradient, segmentsOf, yieldToEventLoop, type WorkerContext } from '../worker-context.ts';

export type ChocoSgdConfig = SgdHyperparameters &
  GossipConfig & {
    compressor: ConfiguredCompressor;
    /** Consensus step size. */
    gamma: number;
  };

/**
 * CHOCO-SGD (Koloskova, Stich, Jaggi, ICML 2019, Algorithm 1), worker i with public copies x̂_j of
 * itself and its neighbours (comm/gossip/choco.ts):
 *
 *   for t = 1..T:
 *     x_half = SGD(x_i, ∇f(x_i; batch_i))
 *     q_i    = Q(x_half - x̂_i)          encoded by the configured compressor, sent to every neighbour
 *     x̂_j   += q_j  for j = i and each neighbour (decoded from the bytes received)
 *     x_i    = x_half + gamma sum_j W_ij (x̂_j - x̂_i)
 *
 * Q is the compressor scaled into a contraction where it is an unbiased quantiser (qsgd:
 * 1/(1+ω), comm/compress/contractive.ts), as the paper's rescaled QSGD. The sender's q_i is what
 * it decodes from its own bytes, so every copy of x̂_i agrees. With `privacy`, the difference
 * x_half - x̂_i is clipped and noised before compression (compression is post-processing).
 */
export async function runChocoSgd(ctx: WorkerContext, cfg: ChocoSgdConfig): Promise<void> {
  const { ep } = ctx;
  const d = ctx.oracle.paramCount;
  const g = setUpGossip(ctx, cfg, 'choco-sgd');
  const compressor = compressorFor(cfg.compressor, segmentsOf(ctx.params), d, 'ef');
  const choco = new ChocoGossip(ctx.rank, g.row.index, g.row.weight, d);
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const velocity = new Float32Array(d);
  const message = new Float32Array(d);
  const q = new Float32Array(d);
  const neighbours = g.exchange.neighbours;
  let payload: Uint8Array = new Uint8Array(0);
  const compress = (delta: Float32Array, out: Float32Array): void => {
    let m = delta;
    if (g.privacy) {
      message.set(delta);
      g.privacy.apply(message);
      m = message;
    }
    payload = compressor.encode(m, ctx.uniform);
    compressor.decode(payload, out);
  };
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const local = computeGradient(ctx, step, params, grad);
    const commStart = ep.now;
    sgdStep(params, grad, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    choco.prepare(params, compress);
    const received = await g.exchange.exchange(payload);
    received.forEach((p, c) => {
      compressor.decode(p, q);
      choco.receive(neighbours[c]!, q);
    });
    choco.mix(params, cfg.gamma, params);
    await yieldToEventLoop();
    ctx.reportStep(step, local.loss, local.compute, local.delay, ep.now - commStart, local.wallSec, local.cpuSec);
    await monitorGossip(ctx, step, params, cfg.evaluate, g.privacy?.spent(step));
  }
}
