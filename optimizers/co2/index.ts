import { psServe } from '../../comm/collectives/parameter-server.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { innerOptimizerInapplicable, innerOptimizerOptions } from '../common/inner-optimizer.ts';
import { runCo2, type Co2Config } from './worker.ts';

/**
 * co2. Outer lr and momentum default to the authors' released implementation's (fairscale-CO2:
 * outer_lr 1.0, outer_momentum 0.5, heavy ball); τ (localSteps) is required like DiLoCo's H.
 * The staleness-gap penalty defaults to 4, not the code's 1: with λ = 1 the one-step-late outer
 * gradient oscillates and grows when local steps cover most of the way (Fashion-MNIST MLP, 4
 * workers, τ = 10, step 250: λ = 1 21%, λ = 2 44%; step 300: λ = 3 78%, λ = 4 80.1%, λ = 6 79%;
 * README.md in this folder). It divides the stale average only, so it does not apply with
 * delay 0. Clipping is off by default, as there.
 */
export const co2 = defineAlgorithm<Co2Config & OptimizerConfig>({
  kind: 'co2',
  description: 'CO2: local updates with a one-step-delayed asynchronous all-reduce of the outer gradient, a staleness-gap penalty and outer momentum clipping (Sun et al. 2024).',
  required: ['localSteps'],
  options: {
    ...innerOptimizerOptions(),
    localSteps: { type: 'integer', minimum: 1, description: 'τ: local steps between outer steps (required; the all-reduce of one outer step runs behind the next τ local steps).' },
    outerLr: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Outer learning rate α (CO2 code default 1.0).' },
    outerMomentum: { type: 'number', minimum: 0, maximum: 1, exclusiveMaximum: 1, default: 0.5, description: 'Outer heavy-ball momentum β (CO2 code default 0.5).' },
    delay: { enum: [0, 1], default: 1, description: 'Outer steps between an all-reduce\'s launch and the use of its average: 1 = CO2 (fully overlapped), 0 = blocking.' },
    gapPenalty: { type: 'number', minimum: 1, default: 4, description: 'λ: the one-step-stale outer gradient (delay 1) is divided by λ before it enters the momentum (the staleness-gap penalty; 1 = none); fresh ones are not.' },
    clip: { type: 'number', exclusiveMinimum: 0, description: 'Outer momentum clipping: clamp each element to [-clip, clip] (absent: no clipping).' },
  },
  // With delay 0 no average is stale: the penalty would divide nothing.
  inapplicable: (o) => ({ ...innerOptimizerInapplicable(o), ...(o.delay === 0 ? { gapPenalty: 'with delay 0 (it divides the one-step-stale average; none is stale)' } : {}) }),
  toleratesCrash: () => false,
  worker: runCo2,
  master: (m) => psServe(m.server),
});
