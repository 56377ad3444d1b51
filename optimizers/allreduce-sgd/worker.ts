import { dataParallelSgd } from '../common/data-parallel.ts';
import { aggregatorSpecOf, isMeanAggregator, type AggregatorConfig } from '../common/aggregator-option.ts';
import { RobustExchange } from '../common/robust-exchange.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import type { WorkerContext } from '../worker-context.ts';

export interface AllreduceSgdConfig extends SgdHyperparameters {
  /** How gradients are combined (default mean: the all-reduce). */
  aggregator?: AggregatorConfig;
}

/**
 * Synchronous data-parallel SGD (PyTorch DDP without hooks):
 *
 *   for t = 1..T:
 *     g_i = ∇f(x; batch_i)
 *     ḡ   = all-reduce(g_i) / n        (dense fp32: ring, or push/pull through a star's server)
 *         | A(g_1..g_n)                (robust aggregator A: all-gather, or through the server)
 *     x   = SGD(x, ḡ)
 *
 * Every worker applies the same update, so the parameters stay identical on all of them.
 */
export function runAllreduceSgd(ctx: WorkerContext, cfg: AllreduceSgdConfig): Promise<void> {
  if (!isMeanAggregator(cfg.aggregator)) {
    const exchange = new RobustExchange(aggregatorSpecOf(cfg.aggregator), ctx.topology);
    return dataParallelSgd(ctx, cfg, (grad, avg) => exchange.aggregate(ctx.ep, grad, avg));
  }
  const inv = 1 / ctx.workers;
  return dataParallelSgd(ctx, cfg, async (grad, avg) => {
    await ctx.allReduce(grad);
    for (let i = 0; i < grad.length; i++) avg[i] = grad[i]! * inv;
  });
}
