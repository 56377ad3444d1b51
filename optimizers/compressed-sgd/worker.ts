import { CompressedExchange, type ExchangeConfig } from '../../comm/communicator.ts';
import { dataParallelSgd } from '../common/data-parallel.ts';
import { aggregatorSpecOf, isMeanAggregator, type AggregatorConfig } from '../common/aggregator-option.ts';
import { RobustCompressedExchange } from './robust.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import { segmentsOf, type WorkerContext } from '../worker-context.ts';

export interface CompressedSgdConfig extends ExchangeConfig, SgdHyperparameters {
  /** How the decoded gradients are combined (default mean: compressed-robust path otherwise). */
  aggregator?: AggregatorConfig;
}

/**
 * Synchronous SGD on compressed gradients (GRACE's compressor / memory / communicator split):
 *
 *   for t = 1..T:
 *     g_i = ∇f(x; batch_i)
 *     p_i = C(e_i + g_i);  e_i = e_i + g_i - D(p_i)     (error feedback, unless `none`)
 *     ḡ   = (1/n) Σ_j D(p_j)                            (all-gather, ring or star: comm/communicator.ts)
 *     x   = SGD(x, ḡ)
 */
export function runCompressedSgd(ctx: WorkerContext, cfg: CompressedSgdConfig): Promise<void> {
  const exchange = new CompressedExchange(cfg, ctx.oracle.paramCount, segmentsOf(ctx.params), ctx.topology);
  if (!isMeanAggregator(cfg.aggregator)) {
    // ḡ = A(D(p_1), ..., D(p_n)): all-gathered payloads (or the star's server) and a robust aggregator.
    const ps = (cfg.aggregation === 'auto' && ctx.topology === 'star') || cfg.aggregation === 'ps';
    const robust = new RobustCompressedExchange(exchange, aggregatorSpecOf(cfg.aggregator), ps);
    return dataParallelSgd(ctx, cfg, (grad, avg) => robust.aggregate(ctx.ep, grad, ctx.uniform, avg));
  }
  return dataParallelSgd(ctx, cfg, (grad, avg) => exchange.average(ctx.ep, grad, ctx.uniform, avg));
}
