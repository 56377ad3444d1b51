import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { innerOptimizerInapplicable, innerOptimizerOptions } from '../common/inner-optimizer.ts';
import { diloco } from '../diloco/index.ts';
import { runEagerDiloco, type EagerDilocoConfig } from './worker.ts';

/**
 * eager-diloco. Inner defaults are DiLoCo's. The outer ones are not: DiLoCo's Nesterov lr 0.7 /
 * momentum 0.9 (which the paper keeps for LLMs, where an outer step moves the model little)
 * diverged here (Fashion-MNIST MLP, 4 workers, H = 10: 47% and falling at step 250), as a
 * linear model of one-step-late outer gradients predicts when local steps cover most of the way;
 * 0.5 / 0.5 is stable there (README.md in this folder).
 *
 * `overlap` is 0 (blocking DiLoCo) or localSteps (the paper's one-outer-step overlap, the default
 * when absent); nothing in between, which would only add waiting (README.md in this folder).
 *
 * Its own kind rather than a diloco option, because diloco's `overlap` already
 * means Streaming DiLoCo's delayed merge of the averaged fragment (the naive delayed update, a
 * different algorithm), and diloco's star path goes through a master that replies with whole
 * models. Here every worker keeps its own outer state, so it runs on any topology (on a star the
 * all-reduce goes through the parameter server's summing rounds).
 */
export const eagerDiloco = defineAlgorithm<EagerDilocoConfig & OptimizerConfig>({
  kind: 'eager-diloco',
  description: "Eager-update DiLoCo: the outer all-reduce overlaps the next inner phase; meanwhile each worker's own fresh outer gradient stands in for the others' (Kale et al. 2025).",
  required: ['localSteps'],
  options: {
    ...innerOptimizerOptions(),
    localSteps: diloco.options['localSteps']!,
    outerLr: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'Outer learning rate (Nesterov SGD; 0.5, not DiLoCo\'s 0.7: see below).' },
    outerMomentum: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      exclusiveMaximum: 1,
      default: 0.5,
      description: "Outer Nesterov momentum (0.5, not DiLoCo's 0.9: with 3/4 of each outer gradient one outer step late, 0.7 / 0.9 diverged on the quickstart's data at H = 10; see the folder's README).",
    },
    // No static default: absent means localSteps, the paper's overlap (a default cannot name another key).
    overlap: {
      type: 'integer',
      minimum: 0,
      description:
        "Inner steps the outer all-reduce overlaps: localSteps (absent: the default) = the paper's one-outer-step overlap, the eager update applied at once and the others' outer gradients one outer step later; 0 = blocking DiLoCo. Nothing in between (the paper's eager update is defined for a whole outer step).",
    },
  },
  inapplicable: innerOptimizerInapplicable,
  rules(o, ctx) {
    // Between 0 and H the average would arrive mid-phase, yet it could only be used at the next
    // outer step: every such overlap is the same arithmetic as H, with extra waiting (README).
    if (o.overlap !== undefined && o.overlap !== 0 && o.overlap !== o.localSteps) {
      ctx.fail('optimizer.overlap', `expected 0 (blocking DiLoCo) or localSteps (${o.localSteps}: the paper's one-outer-step overlap), found ${o.overlap}`);
    }
  },
  toleratesCrash: () => false,
  worker: runEagerDiloco,
  master: (m) => psServe(m.server),
});
