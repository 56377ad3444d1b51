import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { gossipOptions, gossipRules } from '../common/gossip-options.ts';
import { privacySummary } from '../common/gossip-privacy.ts';
import { gossipSummary } from '../common/gossip-summary.ts';
import { sgdOptions } from '../common/options.ts';
import { runDpsgd, type DpsgdConfig } from './worker.ts';

/**
 * dpsgd: decentralized SGD on the topology's neighbour graph (Lian et al. 2017). Defaults:
 * torch.optim.SGD's (lr 0.1, no momentum) for the local step, Metropolis-Hastings weights (valid
 * on every graph, the usual choice in the gossip literature), the average model evaluated.
 */
export const dpsgd = defineAlgorithm<DpsgdConfig & OptimizerConfig>({
  kind: 'dpsgd',
  description: 'decentralized parallel SGD (D-PSGD, Lian et al. 2017): local SGD step, then gossip averaging with the neighbours through a mixing matrix W; optional differentially private messages.',
  options: {
    ...sgdOptions(),
    ...gossipOptions,
    overlap: {
      type: 'boolean',
      default: false,
      description: "Lian et al.'s order: send the model when the step starts and gossip while the gradient is computed (step time max(compute, communication)); default false: local step, then gossip.",
    },
  },
  rules: (cfg, ctx) => gossipRules(cfg, ctx, 'dpsgd'),
  toleratesCrash: () => false,
  worker: runDpsgd,
  summary: (cfg, info) => ({ ...gossipSummary(cfg, info.neighbours), ...(cfg.privacy ? privacySummary(cfg.privacy, info.steps ?? 0) : {}) }),
});
