import { CompressedExchange, type ExchangeConfig } from '../../comm/communicator.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export interface CompressedSgdConfig extends ExchangeConfig, SgdHyperparameters {
}

/**
 * Synchronous SGD on compressed gradients, without local steps: each worker compresses its
 * gradient (with error feedback unless `none`), the average of the decoded gradients is formed
 * by the compressor's aggregation path, and every worker applies the same momentum-SGD update.
 */
export async function runCompressedSgd(ctx: WorkerContext, cfg: CompressedSgdConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const avg = new Float32Array(d);
  const velocity = new Float32Array(d);
  const exchange = new CompressedExchange(cfg, d, ctx.segments, ctx.topology);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step, false);
    const local = computeGradient(ctx, step, params, grad);
    const commStart = ep.now;
    await exchange.average(ep, grad, ctx.uniform, avg);
    sgdStep(params, avg, velocity, learningRate(cfg.lr, cfg.schedule, step, ctx.steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
    await finishStep(ctx, step, local, ep.now - commStart, params);
  }
}
