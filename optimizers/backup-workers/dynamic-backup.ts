/**
 * How many gradients to wait for, each step: the dynamic backup-worker idea of Xu, Neglia and
 * Sebastianelli ("Dynamic backup workers for parallel machine learning", Computer Networks 2021;
 * IFIP Networking 2020) -- maximise the expected loss decrease per unit of virtual time -- with
 * the progress of a step taken from McCandlish, Kaplan, Amodei et al., "An empirical model of
 * large-batch training" (2018): with the step size tuned for its batch, a step on a batch of
 * size B decreases the loss by dL_max / (1 + B_noise / B), where B_noise = tr(Sigma) / |G|^2 is
 * the gradient noise scale. Averaging k workers' gradients makes B = k worker-batches, so
 *
 *   gain(k) = k / (k + B),   B = s2 / G  (noise scale in units of one worker's batch:
 *                                        s2 the variance of one worker's gradient, G = |grad F|^2)
 *
 * and the rule picks k maximising gain(k) / E[T_(k)], E[T_(k)] the expected arrival of the k-th
 * gradient (ArrivalOrderStats). Noise-dominated (B >> k): gain ~ k, the gradient throughput
 * k / E[T_(k)]; signal-dominated (B << 1): gain ~ 1, the fastest worker. Ties go to the larger k.
 * With no arrival history it waits for all n (b = 0). No learning rate or smoothness constant is
 * needed; G and s2 come from the gradients the master received (`gradientStats`), smoothed over
 * steps by the caller (the ratio of two noisy estimates is biased; McCandlish et al. smooth
 * numerator and denominator separately).
 */

import { ParameterError } from '../../comm/param-error.ts';

/** B = s2 / G; Infinity when the estimate of G is not positive (noise dominates entirely). */
export function noiseScale(e: { gradNormSq: number; variance: number }): number {
  return e.gradNormSq > 0 ? e.variance / e.gradNormSq : Infinity;
}

/** gain(k) = k / (k + B), and k itself when B is infinite (only ratios within a step matter). */
export function expectedGain(k: number, b: number): number {
  return b === Infinity ? k : k / (k + b);
}

/**
 * The k to wait for (1..n). expectedKth[k-1] = E[T_(k)] (seconds, non-decreasing in k), as
 * ArrivalOrderStats.meanKth writes it; an all-zero history means "no information": wait for all.
 */
export function chooseWaitCount(expectedKth: Float64Array, b: number): number {
  const n = expectedKth.length;
  if (n === 0) throw new Error('chooseWaitCount: no workers');
  if (!(expectedKth[n - 1]! > 0) || !(b >= 0)) return n;
  let best = n;
  let bestRate = -Infinity;
  for (let k = 1; k <= n; k++) {
    const t = expectedKth[k - 1]!;
    if (!(t > 0)) continue;
    const rate = expectedGain(k, b) / t;
    if (rate >= bestRate) {
      bestRate = rate;
      best = k;
    }
  }
  return best;
}

/**
 * From the k gradients the master received: gradNormSq = ||mean||^2 - variance / k (the
 * unbiased estimate of ||E g||^2, floored at 0) and variance = sum_i ||g_i - mean||^2 / (k - 1)
 * (0 when k = 1). float64.
 */
export function gradientStats(grads: readonly Float32Array[]): { gradNormSq: number; variance: number } {
  const k = grads.length;
  const d = grads[0]!.length;
  let meanSq = 0;
  let dev = 0;
  for (let c = 0; c < d; c++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += grads[i]![c]!;
    const mean = s / k;
    meanSq += mean * mean;
    for (let i = 0; i < k; i++) {
      const t = grads[i]![c]! - mean;
      dev += t * t;
    }
  }
  const variance = k > 1 ? dev / (k - 1) : 0;
  return { gradNormSq: Math.max(0, meanSq - variance / k), variance };
}

/** Validate a fixed `backup: b` for n workers (0 <= b < n). */
export function validateBackup(b: number, n: number): void {
  if (!(Number.isInteger(b) && b >= 0 && b < n)) {
    throw new ParameterError('backup', `an integer 0 <= b < n = ${n} (or dynamic)`, String(b));
  }
}

/**
 * The first k of n arrivals, ties by worker index (lower first): out[0..k) = worker indices in
 * arrival order. The master's choice of which gradients to use, as a function of virtual time
 * only. `order` is scratch of length n (no allocation).
 */
export function firstArrivals(arrivals: Float64Array, k: number, order: Int32Array): Int32Array {
  const n = arrivals.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= n) || order.length !== n) throw new Error(`firstArrivals: k = ${k} of ${n}`);
  for (let i = 0; i < n; i++) order[i] = i;
  // Insertion sort on (time, index): n is a worker count.
  for (let i = 1; i < n; i++) {
    const w = order[i]!;
    const t = arrivals[w]!;
    let j = i - 1;
    while (j >= 0 && (arrivals[order[j]!]! > t || (arrivals[order[j]!]! === t && order[j]! > w))) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = w;
  }
  return order.subarray(0, k);
}
