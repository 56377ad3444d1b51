import { isPluginSpec } from '../../comm/communicator.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { builtInCompressorRules } from '../common/communicator-rules.ts';
import { gossipOptions, gossipRules } from '../common/gossip-options.ts';
import { privacySummary } from '../common/gossip-privacy.ts';
import { gossipSummary } from '../common/gossip-summary.ts';
import { compressorOption, sgdOptions } from '../common/options.ts';
import { runChocoSgd, type ChocoSgdConfig } from './worker.ts';

/**
 * choco-sgd: compressed gossip. Defaults: top-10% (a contraction with delta = 0.1, the
 * sparsifier of the paper's experiments) and gamma 0.4, which trains the quickstart on a ring;
 * the paper tunes gamma per graph and compressor (its Table 3 ranges from 0.01 to 0.8), and
 * gamma = 1 with compressor none is D-PSGD exactly.
 */
export const chocoSgd = defineAlgorithm<ChocoSgdConfig & OptimizerConfig>({
  kind: 'choco-sgd',
  description: 'CHOCO-SGD (Koloskova et al. 2019): decentralized SGD with compressed gossip of model differences and consensus step size gamma; optional differentially private messages.',
  options: {
    ...sgdOptions(),
    ...gossipOptions,
    compressor: { ...compressorOption, default: { kind: 'topk', ratio: 0.1 }, description: 'The compressor Q of the model differences each worker sends (see "Compressors" in the README); unbiased quantisers are scaled by 1/(1+ω) into contractions.' },
    gamma: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.4, description: 'Consensus step size gamma in (0, 1].' },
  },
  rules: (cfg, ctx) => {
    gossipRules(cfg, ctx, 'choco-sgd');
    const c = cfg.compressor;
    if (!isPluginSpec(c)) builtInCompressorRules(c, ctx);
  },
  toleratesCrash: () => false,
  worker: runChocoSgd,
  summary: (cfg, info) => ({ ...gossipSummary(cfg, info.neighbours), ...(cfg.privacy ? privacySummary(cfg.privacy, info.steps ?? 0) : {}) }),
});
