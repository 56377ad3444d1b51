/**
 * The standard normal distribution's functions, in float64, accurate to about 1e-14 relative
 * (checked against scipy in test/normal-stats.test.ts), including the far tails the analytic
 * Gaussian mechanism evaluates. Pure; nothing here is on a hot path.
 *
 * erfc: the Maclaurin series of erf for |x| < 2 (terms stay below ~e^4, so cancellation costs at
 * most ~2 digits) and the Laplace continued fraction
 *   erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 * evaluated by the modified Lentz method for x >= 2, where it converges in a few dozen terms.
 */

const SQRT_PI = Math.sqrt(Math.PI);

function erfSeries(x: number): number {
  // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
  const x2 = x * x;
  let term = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * sum;
}

/** K(x) with erfc(x) = exp(-x^2) / (sqrt(pi) K(x)), for x >= 2. */
function erfcFraction(x: number): number {
  // K = x + a1/(x + a2/(x + ...)), a_k = k/2; modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}

/** The complementary error function. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  return Math.exp(-x * x) / (SQRT_PI * erfcFraction(x));
}

/** log erfc(x), finite where erfc itself underflows (x up to ~1e150). */
export function logErfc(x: number): number {
  if (x < 2) return Math.log(erfc(x));
  return -x * x - Math.log(SQRT_PI * erfcFraction(x));
}

/** log Phi(x), finite far into the lower tail. */
export function logNormalCdf(x: number): number {
  return Math.log(0.5) + logErfc(-x / Math.SQRT2);
}

/** Phi(x) = P(N(0,1) <= x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** The standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Phi^{-1}(p) for 0 < p < 1, by bisection on Phi (monotone, so this cannot fail to converge)
 * until the bracket stops shrinking in float64.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  let lo = -38;
  let hi = 38;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
