import { serveCompressedAverages } from '../../comm/communicator.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { aggregatorOption, aggregatorRules, aggregatorSpecOf, aggregatorSummary, isMeanAggregator } from '../common/aggregator-option.ts';
import { communicatorRules } from '../common/communicator-rules.ts';
import { serveRobustCompressed } from './robust.ts';
import { communicatorOptions, sgdOptions } from '../common/options.ts';
import { segmentsOf } from '../worker-context.ts';
import { runCompressedSgd, type CompressedSgdConfig } from './worker.ts';

/** compressed-sgd: SGD on compressed gradients with error feedback (defaults: fp32, EF on). */
export const compressedSgd = defineAlgorithm<CompressedSgdConfig & OptimizerConfig>({
  kind: 'compressed-sgd',
  description: 'synchronous SGD on compressed gradients with error feedback (GRACE-style compressor / memory / communicator).',
  options: { ...sgdOptions(), ...communicatorOptions, aggregator: aggregatorOption },
  rules(o, ctx) {
    communicatorRules(o, ctx);
    if (isMeanAggregator(o.aggregator)) return;
    aggregatorRules(o.aggregator, ctx.workers, ctx);
    // A robust aggregator needs every worker's decoded vector: no summing ring, no EF21 sum.
    if (o.aggregation === 'ring') ctx.fail('optimizer.aggregation', 'expected allgather, ps or auto with a robust aggregator (the ring sums the payloads on the way), found ring');
    if (o.errorFeedback === 'ef21') ctx.fail('optimizer.errorFeedback', 'expected ef or none with a robust aggregator (EF21 keeps the sum of the workers\' vectors), found ef21');
  },
  byzantine: true,
  summary: (o, info) => aggregatorSummary(o.aggregator, info.workers),
  toleratesCrash: () => false,
  worker: runCompressedSgd,
  master: (m, cfg) =>
    isMeanAggregator(cfg.aggregator)
      ? serveCompressedAverages(m.server, cfg, segmentsOf(m.params), m.initialParams.length, m.topology)
      : serveRobustCompressed(m.server, cfg, aggregatorSpecOf(cfg.aggregator), segmentsOf(m.params), m.initialParams.length, m.topology),
});
