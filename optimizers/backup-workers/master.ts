import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { AggregatorPool, aggregatorSpecOf, isMeanAggregator, type AggregatorConfig } from '../common/aggregator-option.ts';
import { runMasterRounds } from '../common/master-round.ts';
import type { Membership } from '../common/rejoin.ts';
import { sgdStep, type SgdHyperparameters } from '../common/sgd-update.ts';
import { CODING_NAMESPACE } from '../gradient-coding/worker.ts';
import { DynamicBackupController } from './dynamic-controller.ts';

export interface BackupWorkersConfig extends SgdHyperparameters {
  /** b, the gradients of each step the master does not wait for, or `dynamic`. */
  backup: number | 'dynamic';
  /** dynamic: steps of arrival history (the first `window` steps wait for all). */
  window: number;
  /** How the used gradients are combined (default mean). */
  aggregator?: AggregatorConfig;
}

/** What the master decided in one step (for tests and the timeline). */
export interface BackupRound {
  step: number;
  /** How many gradients the step waited for (n - b). */
  waitedFor: number;
  /** Workers whose gradients were used, in virtual arrival order. */
  used: number[];
  /** Virtual time at which the master had them. */
  decidedAt: number;
}

/**
 * The master of synchronous SGD with backup workers (Chen et al. 2016), on the parameter-server
 * endpoint. Each step it takes the pushes in virtual arrival order on its ingress link (ties by
 * rank), uses the first k = n - b (fewer if fewer are alive), averages them, applies
 * torch.optim.SGD and sends the model to every live worker; the b late pushes are not put on the
 * link. With `backup: dynamic`, k comes from DynamicBackupController each step, fed with the
 * arrival offsets the master saw (from the round's start: the time it sent the previous model)
 * and with the gradient noise scale estimated from the used gradients.
 */
export async function runBackupWorkersMaster(
  server: Endpoint,
  cfg: BackupWorkersConfig,
  initialParams: Float32Array,
  steps: number,
  membership: Membership,
  onRound?: (r: BackupRound) => void,
): Promise<void> {
  const n = server.size;
  const d = initialParams.length;
  const model = Float32Array.from(initialParams);
  const velocity = new Float32Array(d);
  const grad = new Float32Array(d);
  const acc = new Float64Array(d);
  const controller = cfg.backup === 'dynamic' ? new DynamicBackupController(n, cfg.window) : null;
  const fixedTake = cfg.backup === 'dynamic' ? n : n - cfg.backup;
  let take = controller ? controller.waitCount() : fixedTake;
  let roundStart = server.now;
  // A robust aggregator over the used gradients in rank order (Krum breaks ties by index).
  const robust = isMeanAggregator(cfg.aggregator) ? null : new AggregatorPool(aggregatorSpecOf(cfg.aggregator));

  await runMasterRounds({
    server,
    namespace: CODING_NAMESPACE,
    membership,
    roundSteps: Array.from({ length: steps }, (_, i) => i + 1),
    accept: (k) => k < take,
    reduce(step, pushes) {
      const used = pushes.filter((p) => p.used).sort((x, y) => x.at - y.at || x.r - y.r);
      acc.fill(0);
      const inv = 1 / used.length;
      const grads = used.map((p) => bytesToF32(p.m.payload));
      if (robust) {
        const byRank = used.map((p, k) => ({ r: p.r, g: grads[k]! })).sort((x, y) => x.r - y.r);
        robust.get(byRank.length).aggregate(byRank.map((x) => x.g), grad);
      } else {
        for (const g of grads) for (let i = 0; i < d; i++) acc[i] = acc[i]! + inv * g[i]!;
        for (let i = 0; i < d; i++) grad[i] = acc[i]!;
      }
      const decidedAt = used[used.length - 1]!.at;
      server.now = Math.max(server.now, decidedAt);
      const lr = learningRate(cfg.lr, cfg.schedule, step, steps);
      if (controller) {
        controller.observe(
          used.map((p) => p.at - roundStart),
          decidedAt - roundStart,
        );
        controller.observeGradients(grads);
        if (process.env['DTEMU_DEBUG_BACKUP']) process.stderr.write(`step ${step} k=${take} B=${controller.noiseScale.toExponential(2)}\n`);
      }
      sgdStep(model, grad, velocity, lr, cfg.momentum, cfg.weightDecay, cfg.nesterov);
      onRound?.({ step, waitedFor: take, used: used.map((p) => p.r), decidedAt });
      take = controller ? controller.waitCount() : fixedTake;
      roundStart = server.now;
      return model;
    },
  });
}
