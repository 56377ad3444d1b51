/**
 * The keys and rules every gossip algorithm shares (dpsgd, choco-sgd): the mixing matrix, what
 * is evaluated, and differential privacy on the messages each worker broadcasts.
 */
import { requireConnected } from '../../comm/gossip/graph.ts';
import { checkMixing, type MixingSpec } from '../../comm/gossip/mixing-row.ts';
import { ParameterError } from '../../comm/param-error.ts';
import { gaussianSigma, type Calibration } from '../../comm/privacy/gaussian-mechanism.ts';
import type { JsonSchema, RuleContext } from '../algorithm.ts';

export interface PrivacyConfig {
  /** Per message (one broadcast per worker per step); the string `inf` means no noise. */
  epsilon: number | 'inf';
  delta: number;
  clip: number;
  calibration: Calibration;
}

export interface GossipConfig {
  mixing: MixingSpec;
  evaluate: 'average' | 'each';
  privacy?: PrivacyConfig;
}

export const gossipOptions: Record<string, JsonSchema> = {
  mixing: {
    default: 'metropolis-hastings',
    anyOf: [
      { enum: ['metropolis-hastings', 'uniform', 'averaging', 'graph'] },
      {
        type: 'object',
        additionalProperties: false,
        required: ['weights'],
        properties: { weights: { type: 'array', items: { type: 'array', items: { type: 'number' } } } },
      },
      { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
    ],
    description:
      'The mixing matrix W over the topology\'s neighbours: metropolis-hastings (W_ij = 1/(1 + max(deg_i, deg_j))), uniform (1/(deg+1); regular graphs only), averaging (W = 11^T/n; complete graphs only), graph (each link\'s weight from topology.links or topology.file, W_ii = 1 - the rest of row i), { weights: [[...], ...] } (n rows), or { file: W.csv } (n lines of n numbers, or a JSON list of rows; relative to the experiment file). An explicit W must be symmetric, doubly stochastic and zero off the graph within 1e-6; config.yaml records it as weights.',
  },
  evaluate: {
    enum: ['average', 'each'],
    default: 'average',
    description: 'Evaluate the workers\' average model (average), or also each worker\'s own model (each: evalAccuracyByWorker / evalLossByWorker in the eval lines).',
  },
  privacy: {
    type: 'object',
    additionalProperties: false,
    required: ['epsilon', 'clip'],
    description:
      'Differentially private gossip: each broadcast message is clipped to L2 norm clip and gets N(0, sigma^2) noise per coordinate, sigma from the Gaussian mechanism for (epsilon, delta) per message with sensitivity 2 clip; the budget composes plainly over steps (summary.json privacy). Absent: no privacy.',
    properties: {
      epsilon: { type: ['number', 'string'], description: 'Per-message epsilon > 0, or inf (no noise; messages are still clipped).' },
      delta: { type: 'number', default: 1e-5, description: 'Per-message delta in (0, 1).' },
      clip: { type: 'number', description: 'L2 norm each broadcast message is clipped to (> 0).' },
      calibration: { enum: ['analytic', 'classic'], default: 'analytic', description: 'analytic (Balle & Wang 2018, any epsilon) or classic (Dwork & Roth, epsilon < 1 only).' },
    },
  },
};

/** The gossip keys' rules: a topology with neighbours, connected, a valid W and privacy budget. */
export function gossipRules(o: GossipConfig, ctx: RuleContext, kind: string): void {
  const adj = ctx.neighbours?.();
  if (adj === null) {
    ctx.fail('topology.kind', `expected a topology with neighbours for ${kind} (ring, torus, graph or hierarchical), found ${ctx.topology} (no neighbour structure: every pair shares a switch or server)`);
  }
  const located = (e: unknown, block: string): never => {
    if (!(e instanceof ParameterError)) throw e;
    const key = e.key.replace(/\[(\d+)\]/g, '.$1');
    return ctx.fail(key === 'topology' ? 'topology' : `optimizer.${block}${key}`, `expected ${e.expected}, found ${e.found}`);
  };
  if (adj) {
    try {
      requireConnected(adj);
      checkMixing(o.mixing, adj);
    } catch (e) {
      located(e, '');
    }
  }
  const p = o.privacy;
  if (p) {
    if (p.epsilon !== 'inf' && typeof p.epsilon !== 'number') ctx.fail('optimizer.privacy.epsilon', `expected a number > 0 or inf, found ${JSON.stringify(p.epsilon)}`);
    try {
      // The sigma itself, not only the keys: a delta whose sigma exceeds float64 is refused here.
      gaussianSigma({ epsilon: epsilonOf(p), delta: p.delta, sensitivity: p.clip, calibration: p.calibration });
    } catch (e) {
      located(e instanceof ParameterError && e.key === 'clip' ? new ParameterError('clip', 'a finite clip norm > 0', e.found) : e, 'privacy.');
    }
  }
}

/** epsilon as a number (inf -> Infinity). */
export function epsilonOf(p: PrivacyConfig): number {
  return p.epsilon === 'inf' ? Infinity : p.epsilon;
}
