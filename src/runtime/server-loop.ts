import type { Endpoint } from '../../comm/endpoint.ts';
import { algorithmOf } from '../../optimizers/index.ts';
import type { Membership } from '../../optimizers/common/rejoin.ts';
import type { LoadedConfig } from '../config/types.ts';
import { initParams, type ModelDef } from '../train/models.ts';
import { pluginAlgorithm } from './plugins.ts';

/**
 * What the parameter-server endpoint (rank n, hosted by the coordinator) does on a star: the
 * configured algorithm's master (dense or compressed push/pull, the async Qsparse master,
 * DiLoCo's outer optimizer, the gradient-coding decoder), if it has one. Resolves when the run
 * no longer needs it.
 */
export async function serveParameterServer(lc: LoadedConfig, server: Endpoint, model: ModelDef, membership: Membership): Promise<void> {
  const c = lc.config;
  const algorithm = algorithmOf(c.optimizer, pluginAlgorithm(lc));
  if (!algorithm.master) return;
  return algorithm.master(
    {
      server,
      initialParams: initParams(model, c.seed),
      params: model.params.map((p) => ({ name: p.name, offset: p.offset, size: p.size, shape: p.shape })),
      steps: c.train.steps,
      workers: c.workers,
      topology: c.topology.kind,
      seed: c.seed,
      membership,
      seconds: lc.q.optimizer,
    },
    c.optimizer,
  );
}
