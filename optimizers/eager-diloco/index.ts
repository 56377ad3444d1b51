import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { innerOptimizerInapplicable } from '../common/inner-optimizer.ts';
import { diloco } from '../diloco/index.ts';
import { runEagerDiloco, type EagerDilocoConfig } from './worker.ts';

// DiLoCo's inner keys with its reference defaults (AdamW with torch's defaults).
const { innerOptimizer, lr, betas, eps, weightDecay, momentum, nesterov, schedule, localSteps } = diloco.options;

/**
 * eager-diloco. Inner defaults are DiLoCo's. The outer ones are not: DiLoCo's Nesterov lr 0.7 /
 * momentum 0.9 (which the paper keeps for LLMs, where an outer step moves the model little)
 * diverged here (Fashion-MNIST MLP, 4 workers, H = 10: 47% and falling at step 250), as a
 * linear model of one-step-late outer gradients predicts when local steps cover most of the way;
 * 0.5 / 0.5 is stable there (README.md in this folder).
 *
 * Its own kind rather than a diloco option, because diloco's `overlap` already
 * means Streaming DiLoCo's delayed merge of the averaged fragment (the naive delayed update, a
 * different algorithm), and diloco's star path goes through a master that replies with whole
 * models. Here every worker keeps its own outer state, so it runs on any topology (on a star the
 * all-reduce goes through the parameter server's summing rounds).
 */
export const eagerDiloco = defineAlgorithm<EagerDilocoConfig & OptimizerConfig>({
  kind: 'eager-diloco',
  description: "Eager-update DiLoCo: the outer all-reduce overlaps `overlap` inner steps; meanwhile each worker's own fresh outer gradient stands in for the others' (Kale et al. 2025).",
  required: ['localSteps'],
  options: {
    innerOptimizer: innerOptimizer!,
    lr: lr!,
    betas: betas!,
    eps: eps!,
    weightDecay: weightDecay!,
    momentum: momentum!,
    nesterov: nesterov!,
    schedule: schedule!,
    localSteps: localSteps!,
    outerLr: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'Outer learning rate (Nesterov SGD; 0.5, not DiLoCo\'s 0.7: see below).' },
    outerMomentum: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      exclusiveMaximum: 1,
      default: 0.5,
      description: "Outer Nesterov momentum (0.5, not DiLoCo's 0.9: with 3/4 of each outer gradient one outer step late, 0.7 / 0.9 diverged on the quickstart's data at H = 10; see the folder's README).",
    },
    overlap: {
      type: 'integer',
      minimum: 0,
      default: 1,
      description:
        'Inner steps the outer all-reduce may overlap (at most localSteps; localSteps = the paper\'s one-outer-step overlap); the eager update is applied at once, the others\' outer gradients one outer step later. 0 = blocking DiLoCo.',
    },
  },
  inapplicable: innerOptimizerInapplicable,
  rules(o, ctx) {
    if (o.overlap > o.localSteps) {
      ctx.fail('optimizer.overlap', `expected overlap at most localSteps (${o.localSteps}: a round's average is needed by the next outer step), found ${o.overlap}`);
    }
  },
  toleratesCrash: () => false,
  worker: runEagerDiloco,
  master: (m) => psServe(m.server),
});
