import { ParameterError } from '../../comm/param-error.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { aggregatorOption, aggregatorRules, aggregatorSpecOf, aggregatorSummary, type AggregatorConfig } from '../common/aggregator-option.ts';
import { sgdOptions } from '../common/options.ts';
import { runGradientCodingWorker } from '../gradient-coding/worker.ts';
import { validateBackup } from './dynamic-backup.ts';
import { runBackupWorkersMaster, type BackupWorkersConfig } from './master.ts';

/**
 * backup-workers (Chen, Pan, Monga, Bengio, Jozefowicz, "Revisiting distributed synchronous
 * SGD", 2016): synchronous SGD through a master that uses the first n - b gradients of each step.
 * The worker is gradient coding's uncoded one (its own partition, push, wait for the model).
 */
export const backupWorkers = defineAlgorithm<BackupWorkersConfig & OptimizerConfig>({
  kind: 'backup-workers',
  description: 'synchronous SGD through a master on a star that uses the first n-b gradients of each step, b fixed or dynamic (Chen et al. 2016).',
  options: {
    ...sgdOptions(),
    backup: {
      type: ['integer', 'string'],
      default: 1,
      description: 'b: gradients per step the master does not wait for (0 <= b < workers), or `dynamic` (b chosen each step from arrival times; see optimizers/backup-workers/README.md).',
    },
    window: { type: 'integer', minimum: 1, default: 10, description: 'dynamic: steps of arrival history; the first `window` steps wait for all.' },
    aggregator: aggregatorOption,
  },
  inapplicable: (o): Record<string, string> => (o.backup === 'dynamic' ? {} : { window: 'only used with backup: dynamic' }),
  rules(o, ctx) {
    if (ctx.topology !== 'star') ctx.fail('topology.kind', `expected star for backup-workers (the master is the parameter server), found ${ctx.topology}`);
    if (typeof o.backup === 'string') {
      if (o.backup !== 'dynamic') ctx.fail('optimizer.backup', `expected an integer 0 <= b < ${ctx.workers} or dynamic, found ${o.backup}`);
      // Dynamic b changes how many gradients a step aggregates; Krum is defined for one n.
      const kind = aggregatorSpecOf(o.aggregator as AggregatorConfig).kind;
      if (kind === 'krum' || kind === 'multi-krum') ctx.fail('optimizer.aggregator', `expected an aggregator for any number of gradients with backup: dynamic (mean, coordinate-median, trimmed-mean, geometric-median), found ${kind}`);
      aggregatorRules(o.aggregator, ctx.workers, ctx);
      return;
    }
    try {
      validateBackup(o.backup, ctx.workers);
    } catch (e) {
      if (e instanceof ParameterError) ctx.fail(`optimizer.${e.key}`, `expected ${e.expected}, found ${e.found}`);
      throw e;
    }
    // The master aggregates the first n - b gradients of each step.
    aggregatorRules(o.aggregator, ctx.workers - o.backup, ctx, `${ctx.workers - o.backup} gradients per step (workers - backup)`);
  },
  byzantine: true,
  // Krum's name is the same for any n; the master builds one per number of gradients.
  summary: (o, info) => aggregatorSummary(o.aggregator, typeof o.backup === 'number' ? info.workers - o.backup : info.workers),
  // Krum aggregates min(n - b, live) gradients: it must still have n > 2f + 2 with every crashed worker down.
  crashRules(o, crashed, workers) {
    const spec = aggregatorSpecOf(o.aggregator as AggregatorConfig);
    if (spec.kind !== 'krum' && spec.kind !== 'multi-krum' || typeof o.backup !== 'number') return null;
    const count = Math.min(workers - o.backup, workers - crashed);
    return count > 2 * spec.f + 2 ? null : `expected at most ${workers - 2 * spec.f - 3} crashed workers for ${spec.kind} with f = ${spec.f} (it needs more than 2f + 2 = ${2 * spec.f + 2} gradients per step), found ${crashed}`;
  },
  // The master carries on with the live workers (it waits for at most n - b of them).
  toleratesCrash: () => true,
  worker: (ctx, o) => runGradientCodingWorker(ctx, { ...o, strategy: 'ignore-stragglers', scheme: 'cyclic', stragglersTolerated: 0 }),
  master: (m, o) => runBackupWorkersMaster(m.server, o, m.initialParams, m.steps, m.membership),
});
