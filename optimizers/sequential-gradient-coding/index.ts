import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { sgdOptions } from '../common/options.ts';
import { srSgcParamError, srSgcStragglers } from '../../src/coding/sequential/selective-reattempt.ts';
import { runSequentialCodingMaster } from './master.ts';
import { runSequentialCodingWorker, sequentialCodeFor, type SequentialCodingConfig } from './worker.ts';

/**
 * sequential-gradient-coding: the selective-reattempt scheme (SR-SGC) of Krishnan, Ebrahimi and
 * Khisti, "Sequential gradient coding for straggler mitigation" (ICLR 2023), on a star's master.
 * Defaults (B, W, lambda) = (1, 3, 2): s = 1, the load of plain gradient coding tolerating one
 * straggler, but two stragglers in a round are tolerated as long as no third worker straggles
 * within three rounds and nobody straggles twice in them.
 */
export const sequentialGradientCoding = defineAlgorithm<SequentialCodingConfig & OptimizerConfig>({
  kind: 'sequential-gradient-coding',
  description: 'selective-reattempt sequential gradient coding: a job decodes up to B rounds late from a cyclic code plus reattempts, tolerating (B, W, lambda)-bursty stragglers (Krishnan et al. 2023).',
  options: {
    ...sgdOptions(),
    B: { type: 'integer', minimum: 1, default: 1, description: 'Delay: job t decodes by the end of round t + B (straggler bursts of at most B rounds).' },
    W: { type: 'integer', minimum: 2, default: 3, description: 'Window of the straggler model, in rounds (B must divide W - 1).' },
    lambda: { type: 'integer', minimum: 1, default: 2, description: 'Distinct stragglers tolerated in any W consecutive rounds; the code tolerates s = ceil(B lambda / (W - 1 + B)) per round.' },
    mu: { type: 'number', minimum: 0, default: 1, description: 'A worker finishing later than (1 + mu) times the fastest worker\'s round time is a straggler (ignored if the pattern is within the model).' },
  },
  rules(o, ctx) {
    if (ctx.topology !== 'star') ctx.fail('topology.kind', `expected star for sequential-gradient-coding (the master is the parameter server), found ${ctx.topology}`);
    // B sizes the workers' memory (B + 1 models and batches each): a job can only be late by
    // rounds the run has, so B >= train.steps is a typo, not a straggler model.
    if (o.B >= ctx.steps) ctx.fail('optimizer.B', `expected B < train.steps (${ctx.steps}): a job decodes at most B rounds after it starts, and each worker keeps B + 1 models; found ${o.B}`);
    const err = srSgcParamError({ n: ctx.workers, B: o.B, W: o.W, lambda: o.lambda });
    if (err) ctx.fail(`optimizer.${err.key}`, `expected ${err.expected}, found ${err.found}`);
  },
  toleratesCrash: () => false,
  worker: runSequentialCodingWorker,
  master: (m, o) => runSequentialCodingMaster(m.server, o, sequentialCodeFor(o, m.workers, m.seed), m.initialParams, m.steps, m.membership),
  summary: (o) => ({ sequentialCoding: { scheme: 'selective-reattempt', B: o.B, W: o.W, lambda: o.lambda, s: srSgcStragglers(o) } }),
});
