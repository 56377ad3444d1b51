import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { sgdOptions } from '../common/options.ts';
import { runAsyncSgdMaster } from './master.ts';
import { runAsyncSgdWorker, type AsyncSgdConfig } from './worker.ts';

/**
 * async-sgd: asynchronous SGD through a parameter server (e.g. Dean et al. 2012's Downpour SGD,
 * Recht et al.'s analysis model): each worker pulls, computes and pushes on its own clock; the
 * server applies every gradient on arrival, in virtual-time order. The learning-rate schedule
 * runs over each worker's steps.
 */
export const asyncSgd = defineAlgorithm<AsyncSgdConfig & OptimizerConfig>({
  kind: 'async-sgd',
  description: 'asynchronous SGD through a parameter server on a star: gradients applied on arrival in virtual-time order, staleness tracked (optionally lr / (1 + staleness)).',
  options: {
    ...sgdOptions(),
    staleness: {
      enum: ['ignore', 'scale-lr'],
      default: 'ignore',
      description: 'ignore, or scale-lr: divide the step by 1 + staleness (Zhang et al. 2016).',
    },
  },
  rules(_o, ctx) {
    if (ctx.topology !== 'star') ctx.fail('topology.kind', `expected star for async-sgd (the server applies the gradients), found ${ctx.topology}`);
  },
  byzantine: true,
  toleratesCrash: () => false,
  worker: runAsyncSgdWorker,
  master: async (m, o) => {
    await runAsyncSgdMaster(m.server, o, m.initialParams, m.steps);
  },
});
