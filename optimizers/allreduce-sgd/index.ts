import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { sgdOptions } from '../common/options.ts';
import { runAllreduceSgd, type AllreduceSgdConfig } from './worker.ts';

/**
 * allreduce-sgd: dense synchronous SGD. Defaults are torch.optim.SGD's (momentum 0, no Nesterov,
 * no weight decay); torch has no default learning rate, 0.1 here.
 */
export const allreduceSgd = defineAlgorithm<AllreduceSgdConfig & OptimizerConfig>({
  kind: 'allreduce-sgd',
  description: 'dense synchronous data-parallel SGD (torch.optim.SGD semantics).',
  options: sgdOptions(),
  toleratesCrash: () => false,
  worker: runAllreduceSgd,
  // On a star, the server sums the dense pushes.
  master: (m) => psServe(m.server),
});
