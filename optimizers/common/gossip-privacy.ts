/**
 * Differential privacy on what a gossip worker broadcasts (comm/privacy): clip the message to L2
 * norm C, add N(0, sigma^2) per coordinate, sigma from the Gaussian mechanism for (epsilon, delta)
 * with L2 sensitivity 2C (any clipped message may be replaced by any other: neighbours learn
 * nothing certain about a worker's message, whatever its data). One broadcast per worker per
 * step is one release, however many neighbours hear it; over T steps plain composition gives
 * (T epsilon, T delta). Noise comes from the worker's own seeded stream (seed, 'dp', rank), so a
 * private run is reproducible in every transport.
 */
import { gaussianSigma } from '../../comm/privacy/gaussian-mechanism.ts';
import { privatize } from '../../comm/privacy/mechanism.ts';
import { plainComposition } from '../../comm/privacy/accountant.ts';
import { Rng } from '../../src/util/rng.ts';
import { epsilonOf, type PrivacyConfig } from './gossip-options.ts';

/** L2 sensitivity of a message clipped to norm C under replace-one neighbouring. */
export const sensitivityOf = (clip: number): number => 2 * clip;

export function sigmaOf(p: PrivacyConfig): number {
  return gaussianSigma({ epsilon: epsilonOf(p), delta: p.delta, sensitivity: sensitivityOf(p.clip), calibration: p.calibration });
}

export class MessagePrivacy {
  readonly sigma: number;
  private readonly rng: Rng;
  private readonly normal: () => number;

  constructor(
    readonly cfg: PrivacyConfig,
    seed: number,
    rank: number,
  ) {
    this.sigma = sigmaOf(cfg);
    this.rng = new Rng(seed, 'dp', rank);
    this.normal = () => this.rng.normal();
  }

  /** Clip and noise `message` in place (what is broadcast). */
  apply(message: Float32Array): void {
    privatize(message, this.cfg.clip, this.sigma, this.normal);
  }

  /** The eval line's budget after `step` steps (absent when epsilon is inf). */
  spent(step: number): Record<string, number> {
    const e = epsilonOf(this.cfg);
    if (!Number.isFinite(e)) return {};
    const c = plainComposition(e, this.cfg.delta, step);
    return { privacyEpsilon: c.epsilon, privacyDelta: c.delta };
  }
}

/** summary.json's `privacy`: per step and cumulative (plain composition), sigma, sensitivity. */
export function privacySummary(p: PrivacyConfig, steps: number): Record<string, unknown> {
  const e = epsilonOf(p);
  const finite = Number.isFinite(e);
  const total = plainComposition(e, p.delta, steps);
  return {
    privacy: {
      mechanism: `gaussian (${p.calibration})`,
      composition: 'plain',
      clip: p.clip,
      sensitivity: sensitivityOf(p.clip),
      sigma: sigmaOf(p),
      perStep: { epsilon: finite ? e : 'inf', delta: p.delta },
      cumulative: { epsilon: finite ? total.epsilon : 'inf', delta: total.delta, steps },
    },
  };
}
