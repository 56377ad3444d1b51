import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { adamOptions, scheduleOption } from '../common/options.ts';
import { runOneBitAdamServer } from './master.ts';
import { runOneBitAdam, type OneBitAdamConfig } from './worker.ts';

/**
 * onebit-adam. Defaults are torch.optim.Adam's (lr 1e-3, betas (0.9, 0.999), eps 1e-8, bias
 * correction). freezeStep is required: the paper warms up for 15-25% of training and
 * DeepSpeed's default (100000) belongs to BERT-scale runs, so no value fits every run.
 */
export const oneBitAdam = defineAlgorithm<OneBitAdamConfig & OptimizerConfig>({
  kind: 'onebit-adam',
  description: '1-bit Adam: Adam warm-up with fp32 all-reduce, then frozen variance and 1-bit momentum with worker and server error feedback (Tang et al. 2021).',
  required: ['freezeStep'],
  options: {
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate (torch.optim.Adam default 1e-3).' },
    ...adamOptions(),
    freezeStep: {
      type: 'integer',
      minimum: 1,
      description: 'Warm-up steps of full-precision Adam; the variance freezes after it and 1-bit momentum is sent (required; the paper uses 15-25% of training; at least train.steps = Adam throughout).',
    },
    biasCorrection: { type: 'boolean', default: true, description: 'torch-style bias correction of m and v (DeepSpeed\'s OnebitAdam omits it: false).' },
    schedule: scheduleOption,
  },
  toleratesCrash: () => false,
  worker: runOneBitAdam,
  // On a star the server averages: fp32 during the warm-up, 1-bit payloads after.
  master: (m, o) => runOneBitAdamServer(m.server, m.initialParams.length, o.freezeStep, m.steps),
});
