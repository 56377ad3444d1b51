import { psServe } from '../../comm/collectives/parameter-server.ts';
import { psServeCompressedRound } from '../../comm/collectives/compressed-parameter-server.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { compressorFor, resolveAggregation } from '../../comm/communicator.ts';
import { runQsparseAsyncMaster } from '../../optimizers/qsparse-local-sgd/master.ts';
import { periodOf } from '../../optimizers/qsparse-local-sgd/worker.ts';
import { runGradientCodingMaster } from '../../optimizers/gradient-coding/master.ts';
import { dilocoSyncSteps, runDilocoMaster } from '../../optimizers/diloco/master.ts';
import { gradientCodeOf } from './run-setup.ts';
import type { Membership } from '../../optimizers/common/rejoin.ts';
import type { LoadedConfig } from '../config/types.ts';
import { initParams, type ModelDef } from '../train/models.ts';

/**
 * What the parameter-server endpoint (rank n, hosted by the coordinator) does for the configured
 * algorithm on a star: dense push/pull sums, compressed push/pull averages, or the asynchronous
 * Qsparse master. Resolves when the run no longer needs it.
 */
export async function serveParameterServer(lc: LoadedConfig, server: Endpoint, model: ModelDef, membership: Membership): Promise<void> {
  const o = lc.config.optimizer;
  if (o.kind === 'diloco') {
    return runDilocoMaster(server, initParams(model, lc.config.seed), dilocoSyncSteps(o.localSteps, lc.config.train.steps), o.outerLr, o.outerMomentum, lc.q.syncTimeout, membership);
  }
  if (o.kind === 'allreduce-sgd' || o.kind === 'powersgd') return psServe(server);
  if (o.kind === 'gradient-coding') {
    return runGradientCodingMaster(server, o, gradientCodeOf(lc), initParams(model, lc.config.seed), lc.config.train.steps, undefined, membership);
  }
  const segments = model.params.map((p) => ({ offset: p.offset, size: p.size }));
  const compressor = compressorFor(o.compressor, segments, model.size, o.errorFeedback);
  if (o.kind === 'qsparse-local-sgd' && o.mode === 'async') {
    const periods = Array.from({ length: lc.config.workers }, (_, r) => periodOf(o, r));
    return runQsparseAsyncMaster(server, compressor, initParams(model, lc.config.seed), lc.config.train.steps, periods);
  }
  if (resolveAggregation(o, compressor, lc.config.topology.kind) !== 'ps') return;
  while (await psServeCompressedRound(server, compressor, model.size)) {
    /* next round */
  }
}
