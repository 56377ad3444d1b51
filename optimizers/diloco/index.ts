import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { communicatorRules } from '../common/communicator-rules.ts';
import { innerOptimizerInapplicable, innerOptimizerOptions } from '../common/inner-optimizer.ts';
import { communicatorOptions } from '../common/options.ts';
import { dilocoSyncSteps, runDilocoMaster } from './master.ts';
import { dilocoUsesMaster, runDiloco, type DilocoConfig } from './worker.ts';

/**
 * diloco. Defaults are the reference's: the inner optimizer is torch.optim.AdamW with its own
 * defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2); the outer optimizer is
 * SGD with Nesterov momentum, lr 0.7, momentum 0.9 (Douillard et al. 2023; torchft's DiLoCo and
 * OpenDiLoCo use the same). H (localSteps) is required: it has no universal value (torchft's
 * sync_every has no default; the paper's 500 goes with runs of ~90k steps).
 */
export const diloco = defineAlgorithm<DilocoConfig & OptimizerConfig>({
  kind: 'diloco',
  description: 'DiLoCo: H inner AdamW steps per worker, outer Nesterov SGD on the averaged outer gradient; Streaming DiLoCo fragments and overlap (Douillard et al. 2023, 2025).',
  required: ['localSteps'],
  options: {
    ...innerOptimizerOptions(),
    localSteps: { type: 'integer', minimum: 1, description: 'H: inner steps between synchronizations (required: like torchft\'s sync_every it has no universal value; the paper uses 500 in runs of ~90k steps).' },
    outerLr: { type: 'number', exclusiveMinimum: 0, default: 0.7, description: 'Outer learning rate (SGD with Nesterov momentum; DiLoCo: 0.7).' },
    outerMomentum: { type: 'number', minimum: 0, maximum: 1, exclusiveMaximum: 1, default: 0.9, description: 'Outer Nesterov momentum (DiLoCo: 0.9).' },
    fragments: { type: 'integer', minimum: 1, default: 1, description: 'Streaming DiLoCo fragments F, synchronized in turn every H/F steps (1 = plain DiLoCo).' },
    overlap: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: "tau; a fragment's outer gradient is sent at its sync step and merged tau inner steps later, its all-reduce overlapping those steps in virtual time (0 = blocking; below localSteps).",
    },
    mixing: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'alpha; after a fragment syncs, local = alpha * local + (1 - alpha) * global.' },
    syncTimeout: {
      type: 'string',
      'x-quantity': 'time',
      description: 'On a star: outer gradients arriving later than this after the first are left out of that average (the worker continues from the new global parameters).',
    },
    ...communicatorOptions,
  },
  quantities: ['syncTimeout'],
  inapplicable: innerOptimizerInapplicable,
  rules(o, ctx) {
    communicatorRules(o, ctx);
    const star = ctx.topology === 'star';
    if (star && o.fragments !== 1) ctx.fail('optimizer.fragments', `expected 1 fragment for diloco on a star (its master averages whole models), found ${o.fragments}`);
    if (o.overlap > 0) {
      if (star) ctx.fail('optimizer.overlap', `expected overlap 0 for diloco on a star (its master replies with whole models), found ${o.overlap}`);
      if (o.overlap >= o.localSteps) ctx.fail('optimizer.overlap', `expected overlap below localSteps (${o.localSteps}: a fragment must be merged before it syncs again), found ${o.overlap}`);
    }
    if (o.syncTimeout !== undefined && !star) ctx.fail('optimizer.syncTimeout', 'expected syncTimeout only for diloco on topology star (the master decides who is late)');
    if (o.compressor.kind !== 'none' && star) {
      ctx.fail('optimizer.compressor', 'expected no compressor for diloco on a star (compressed outer gradients are all-gathered or ring-reduced: use topology ring)');
    }
  },
  // Through its master (star) DiLoCo goes on without a crashed worker; on a ring it cannot.
  toleratesCrash: (_o, topology) => dilocoUsesMaster(topology),
  worker: runDiloco,
  master: (m, o) =>
    runDilocoMaster(m.server, m.initialParams, dilocoSyncSteps(o.localSteps, m.steps), o.outerLr, o.outerMomentum, m.seconds['syncTimeout'] ?? null, m.membership),
});
