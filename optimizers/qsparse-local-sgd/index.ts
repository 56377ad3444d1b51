import { compressorFor, serveCompressedAverages } from '../../comm/communicator.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { communicatorRules } from '../common/communicator-rules.ts';
import { communicatorOptions, sgdOptions } from '../common/options.ts';
import { segmentsOf } from '../worker-context.ts';
import { runQsparseAsyncMaster } from './master.ts';
import { periodOf, runQsparseLocalSgd, type QsparseConfig } from './worker.ts';

/**
 * qsparse-local-sgd (Basu et al. 2019). Defaults: H = 4 local steps, synchronous, error
 * compensation on; the compressor (the paper's sparsifier / quantiser) is fp32 until chosen.
 */
export const qsparseLocalSgd = defineAlgorithm<QsparseConfig & OptimizerConfig>({
  kind: 'qsparse-local-sgd',
  description: 'Qsparse-local-SGD: local steps, compressed model changes with error compensation, sync or async through a master (Basu et al. 2019).',
  options: {
    ...sgdOptions(),
    ...communicatorOptions,
    localSteps: { type: 'integer', minimum: 1, default: 4, description: 'Local steps H between synchronizations.' },
    mode: { enum: ['sync', 'async'], default: 'sync', description: 'Synchronous rounds, or asynchronous pushes to a master (needs topology star).' },
    syncEvery: {
      type: 'array',
      items: { type: 'integer', minimum: 1 },
      description: 'async: per-worker synchronization periods H_r (one per worker; default localSteps for all).',
    },
  },
  rules(o, ctx) {
    communicatorRules(o, ctx);
    if (o.mode === 'async') {
      if (ctx.topology !== 'star') ctx.fail('optimizer.mode', `expected topology star for async (the master is the parameter server), found ${ctx.topology}`);
      if (o.errorFeedback === 'ef21') ctx.fail('optimizer.errorFeedback', 'expected ef or none in async mode, found ef21');
      if (o.syncEvery && o.syncEvery.length !== ctx.workers) ctx.fail('optimizer.syncEvery', `expected one period per worker (${ctx.workers}), found ${o.syncEvery.length}`);
    } else if (o.syncEvery) {
      ctx.fail('optimizer.syncEvery', 'expected syncEvery only with qsparse-local-sgd mode async');
    }
  },
  toleratesCrash: () => false,
  worker: runQsparseLocalSgd,
  master(m, cfg) {
    if (cfg.mode === 'async') {
      const compressor = compressorFor(cfg.compressor, segmentsOf(m.params), m.initialParams.length, cfg.errorFeedback);
      const periods = Array.from({ length: m.workers }, (_, r) => periodOf(cfg, r));
      return runQsparseAsyncMaster(m.server, compressor, m.initialParams, m.steps, periods);
    }
    return serveCompressedAverages(m.server, cfg, segmentsOf(m.params), m.initialParams.length, m.topology);
  },
});
