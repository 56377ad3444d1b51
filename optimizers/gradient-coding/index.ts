import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { sgdOptions } from '../common/options.ts';
import { runGradientCodingMaster } from './master.ts';
import { gradientCodeFor, runGradientCodingWorker, type GradientCodingConfig } from './worker.ts';

/**
 * gradient-coding (Tandon et al. 2017; rashisht1/gradient_coding). Defaults: the coded strategy
 * with the cyclic-repetition scheme (any n > s) tolerating s = 1 straggler; the master's update
 * is torch.optim.SGD (lr 0.1 here).
 */
export const gradientCoding = defineAlgorithm<GradientCodingConfig & OptimizerConfig>({
  kind: 'gradient-coding',
  description: 'gradient coding against stragglers (coded, wait-for-all, ignore-stragglers, replication) through a master on a star (Tandon et al. 2017).',
  options: {
    ...sgdOptions(),
    strategy: {
      enum: ['coded', 'wait-for-all', 'ignore-stragglers', 'replication'],
      default: 'coded',
      description: 'coded (decode from the first n-s), wait-for-all, ignore-stragglers (average the first n-s), replication (uncoded copies).',
    },
    scheme: { enum: ['cyclic', 'fractional'], default: 'cyclic', description: 'Cyclic repetition (any n > s) or fractional repetition ((s+1) divides n).' },
    stragglersTolerated: { type: 'integer', minimum: 0, default: 1, description: 's, the stragglers tolerated (each worker computes s+1 partitions).' },
  },
  rules(o, ctx) {
    if (ctx.topology !== 'star') ctx.fail('topology.kind', `expected star for gradient-coding (the master is the parameter server), found ${ctx.topology}`);
    if (o.stragglersTolerated >= ctx.workers) ctx.fail('optimizer.stragglersTolerated', `expected s below workers (${ctx.workers}), found ${o.stragglersTolerated}`);
    if (o.scheme === 'fractional' && ctx.workers % (o.stragglersTolerated + 1) !== 0) {
      ctx.fail('optimizer.scheme', `expected cyclic, or s+1 (${o.stragglersTolerated + 1}) dividing workers (${ctx.workers}) for fractional, found fractional`);
    }
  },
  // The master decodes without crashed workers, within what the code tolerates.
  toleratesCrash: () => true,
  crashRules: (o, crashed) =>
    crashed > o.stragglersTolerated ? `expected at most optimizer.stragglersTolerated (${o.stragglersTolerated}) crashed workers for gradient-coding, found ${crashed}` : null,
  worker: runGradientCodingWorker,
  master: (m, o) => runGradientCodingMaster(m.server, o, gradientCodeFor(o, m.workers, m.seed), m.initialParams, m.steps, undefined, m.membership),
});
