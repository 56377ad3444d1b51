import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { aggregatorOption, aggregatorRules, aggregatorSpecOf, aggregatorSummary, isMeanAggregator } from '../common/aggregator-option.ts';
import { sgdOptions } from '../common/options.ts';
import { serveRobustAggregates } from '../common/robust-exchange.ts';
import { runAllreduceSgd, type AllreduceSgdConfig } from './worker.ts';

/**
 * allreduce-sgd: dense synchronous SGD. Defaults are torch.optim.SGD's (momentum 0, no Nesterov,
 * no weight decay); torch has no default learning rate, 0.1 here. `aggregator` other than mean
 * all-gathers the gradients (or aggregates them at a star's server) instead of summing them.
 */
export const allreduceSgd = defineAlgorithm<AllreduceSgdConfig & OptimizerConfig>({
  kind: 'allreduce-sgd',
  description: 'dense synchronous data-parallel SGD (torch.optim.SGD semantics), optionally with a robust aggregator.',
  options: { ...sgdOptions(), aggregator: aggregatorOption },
  rules: (o, ctx) => aggregatorRules(o.aggregator, ctx.workers, ctx),
  byzantine: true,
  summary: (o, info) => aggregatorSummary(o.aggregator, info.workers),
  toleratesCrash: () => false,
  worker: runAllreduceSgd,
  // On a star, the server sums the dense pushes (or aggregates them robustly).
  master: (m, o) => (isMeanAggregator(o.aggregator) ? psServe(m.server) : serveRobustAggregates(m.server, aggregatorSpecOf(o.aggregator))),
});
