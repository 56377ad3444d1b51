import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { sgdOptions } from '../common/options.ts';
import { powerSgdReport, runPowerSgd, type PowerSgdConfig } from './worker.ts';

/**
 * powersgd. Defaults are PyTorch's `PowerSGDState` (ddp_comm_hooks/powerSGD_hook.py):
 * matrix_approximation_rank 1, min_compression_rate 2, use_error_feedback True, warm_start True.
 * One deliberate difference: start_powerSGD_iter is 1000 in PyTorch (dense steps first, for
 * runs of tens of thousands of steps); here startIter defaults to 0 so that the short runs an
 * emulator makes compress at all. The SGD keys are torch.optim.SGD's (lr 0.1 here).
 */
export const powerSgd = defineAlgorithm<PowerSgdConfig & OptimizerConfig>({
  kind: 'powersgd',
  description: 'PowerSGD low-rank gradient compression with error feedback (PyTorch powerSGD_hook defaults).',
  options: {
    ...sgdOptions(),
    rank: { type: 'integer', minimum: 1, default: 1, description: 'r, the rank of the low-rank approximation (PyTorch matrix_approximation_rank: 1).' },
    minCompressionRate: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 2,
      description: 'Matrices are compressed only when their rate n m / ((n + m) r) is strictly greater than this, as in PyTorch (min_compression_rate: 2); the others, and 1-D tensors, are all-reduced dense.',
    },
    errorFeedback: { enum: ['none', 'ef'], default: 'ef', description: 'ef: error feedback on the compressed matrices (PyTorch use_error_feedback: True); none.' },
    warmStart: { type: 'boolean', default: true, description: 'Reuse Q from the previous step (PyTorch warm_start: True); else a fresh seeded Q each step.' },
    startIter: { type: 'integer', minimum: 0, default: 0, description: 'Dense steps before compression starts (PyTorch start_powerSGD_iter: 1000, meant for long runs).' },
  },
  byzantine: true,
  toleratesCrash: () => false,
  worker: runPowerSgd,
  master: (m) => psServe(m.server),
  summary: (cfg, info) => ({ powersgd: powerSgdReport(info.params, cfg, info.workers) }),
});
