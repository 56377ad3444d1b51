/**
 * Calibrating the Gaussian mechanism M(x) = x + N(0, sigma^2 I) for a message of L2 sensitivity
 * Delta (for a message clipped to norm C, Delta = C under add/remove-one neighbouring, 2C if one
 * worker's message may be replaced by any other: the caller passes what its model needs).
 *
 *  - classic (Dwork & Roth, "The Algorithmic Foundations of Differential Privacy", Theorem A.1):
 *      sigma = Delta sqrt(2 ln(1.25 / delta)) / epsilon,
 *    (epsilon, delta)-DP only for 0 < epsilon < 1: the proof needs it, and above 1 the formula can
 *    be too small (epsilon 20, delta 1e-5: 0.242 Delta where 0.290 Delta is needed). Refused there.
 *  - analytic (Balle & Wang, "Improving the Gaussian mechanism for differential privacy",
 *    ICML 2018, Theorem 8): M is (epsilon, delta)-DP iff
 *      Phi(Delta/(2 sigma) - epsilon sigma/Delta) - e^epsilon Phi(-Delta/(2 sigma) - epsilon sigma/Delta) <= delta;
 *    the smallest such sigma is found by bisection (the left side decreases in sigma) to float64
 *    precision, rounded up. Valid for every epsilon > 0 and always <= the classic sigma.
 *    The e^epsilon Phi(.) product is formed in log space so large epsilon cannot overflow.
 *
 * epsilon = +Infinity means no privacy: sigma = 0 (the noise-free run), for either method.
 */
import { ParameterError } from '../param-error.ts';
import { logNormalCdf, normalCdf } from '../stats/normal.ts';

export type Calibration = 'classic' | 'analytic';

export interface GaussianMechanismParams {
  epsilon: number;
  delta: number;
  /** L2 sensitivity of the released message (the clip norm, see above). */
  sensitivity: number;
  /** Default `classic` (the formula most papers state); `analytic` for any epsilon. */
  calibration?: Calibration;
}

export function validatePrivacy(p: GaussianMechanismParams): void {
  if (!(p.epsilon > 0)) throw new ParameterError('epsilon', 'epsilon > 0', String(p.epsilon));
  if (!(p.delta > 0 && p.delta < 1)) throw new ParameterError('delta', '0 < delta < 1', String(p.delta));
  if (!(p.sensitivity > 0 && Number.isFinite(p.sensitivity))) {
    throw new ParameterError('clip', 'a finite clip norm (sensitivity) > 0', String(p.sensitivity));
  }
  const c = p.calibration ?? 'classic';
  if (c !== 'classic' && c !== 'analytic') throw new ParameterError('calibration', 'classic or analytic', String(c));
  if (c === 'classic' && p.epsilon >= 1 && p.epsilon !== Infinity) {
    throw new ParameterError(
      'epsilon',
      'epsilon < 1 for the classic Gaussian mechanism (its calibration is proven only there; set calibration: analytic for larger epsilon)',
      String(p.epsilon),
    );
  }
}

export function classicGaussianSigma(epsilon: number, delta: number, sensitivity: number): number {
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/** delta(sigma) of Balle & Wang's Theorem 8 for sensitivity 1 (sigma in units of Delta). */
export function analyticDelta(sigma: number, epsilon: number): number {
  const a = 1 / (2 * sigma);
  const b = epsilon * sigma;
  return normalCdf(a - b) - Math.exp(epsilon + logNormalCdf(-a - b));
}

export function analyticGaussianSigma(epsilon: number, delta: number, sensitivity: number): number {
  // Start the bracket at a sigma that is known to suffice. The classic formula overflows for a
  // tiny epsilon (Infinity at 1e-310) although the answer is finite: delta(sigma) does not grow
  // as epsilon grows, so the epsilon -> 0 limit bounds it, and there
  // delta(sigma) = 2 Phi(1/(2 sigma)) - 1 <= 1/(sigma sqrt(2 pi)) (Phi is concave above 0):
  // sigma = 1/(delta sqrt(2 pi)) suffices for every epsilon > 0.
  let hi = Math.max(1e-3, Math.min(Math.sqrt(2 * Math.log(1.25 / delta)) / epsilon, 1 / (delta * Math.sqrt(2 * Math.PI))));
  while (analyticDelta(hi, epsilon) > delta && hi < Number.MAX_VALUE) hi *= 2;
  // Only a delta below about 1e-308 has a sigma beyond float64 (the bound above overflows).
  if (!Number.isFinite(hi * sensitivity)) throw new ParameterError('delta', 'a delta whose noise scale is finite in float64 (delta above about 1e-307)', String(delta));
  let lo = hi / 2;
  while (analyticDelta(lo, epsilon) <= delta) {
    hi = lo;
    lo /= 2;
    if (lo < 1e-300) break;
  }
  for (let i = 0; i < 2000; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (analyticDelta(mid, epsilon) > delta) lo = mid;
    else hi = mid;
  }
  return hi * sensitivity;
}

/** The noise std per coordinate for one release. */
export function gaussianSigma(p: GaussianMechanismParams): number {
  validatePrivacy(p);
  if (p.epsilon === Infinity) return 0;
  return (p.calibration ?? 'classic') === 'classic'
    ? classicGaussianSigma(p.epsilon, p.delta, p.sensitivity)
    : analyticGaussianSigma(p.epsilon, p.delta, p.sensitivity);
}
