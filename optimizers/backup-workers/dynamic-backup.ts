/**
 * How many gradients to wait for, each step, after the dynamic backup-worker idea of Xu, Neglia
 * and Sebastianelli ("Dynamic backup workers for parallel machine learning", Computer Networks
 * 2021; IFIP Networking 2020): maximise the expected loss decrease per unit of time. The gain
 * below is the standard descent-lemma bound; the estimators are ours (stated here), not a copy
 * of theirs.
 *
 * For an L-smooth loss, one SGD step with learning rate lr on the average of k independent
 * stochastic gradients (true gradient norm^2 G, per-gradient variance s2) decreases the loss in
 * expectation by at least
 *
 *   gain(k) = lr G - (L lr^2 / 2) (G + s2 / k).
 *
 * The step lasts until the k-th gradient arrives, E[T_(k)], estimated from the recent steps'
 * order statistics (ArrivalOrderStats). The rule picks k maximising gain(k) / E[T_(k)] over the
 * k with gain(k) > 0; the master then uses the first k arrivals and b = n - k backups are ignored.
 * Ties go to the larger k (more data for the same progress rate). With no positive gain (lr too
 * large for the estimated L) or no arrival history yet it waits for all n (b = 0), the
 * synchronous step. G, s2 and L come from the run: `gradientStats` on the gradients the master
 * received, `secantSmoothness` between consecutive steps.
 */
import { ParameterError } from '../../comm/param-error.ts';

export interface ProgressEstimates {
  /** ||grad F||^2, estimated. */
  gradNormSq: number;
  /** Variance of one worker's stochastic gradient (sum over coordinates). */
  variance: number;
  /** Smoothness constant L, estimated. */
  smoothness: number;
  lr: number;
}

export function expectedGain(k: number, e: ProgressEstimates): number {
  return e.lr * e.gradNormSq - 0.5 * e.smoothness * e.lr * e.lr * (e.gradNormSq + e.variance / k);
}

/**
 * The k to wait for (1..n). expectedKth[k-1] = E[T_(k)] (seconds, non-decreasing in k), as
 * ArrivalOrderStats.meanKth writes it; an all-zero history means "no information": wait for all.
 */
export function chooseWaitCount(expectedKth: Float64Array, e: ProgressEstimates): number {
  const n = expectedKth.length;
  if (n === 0) throw new Error('chooseWaitCount: no workers');
  if (!(expectedKth[n - 1]! > 0)) return n;
  let best = n;
  let bestRate = -Infinity;
  for (let k = 1; k <= n; k++) {
    const gain = expectedGain(k, e);
    const t = expectedKth[k - 1]!;
    if (!(gain > 0) || !(t > 0)) continue;
    const rate = gain / t;
    if (rate >= bestRate) {
      bestRate = rate;
      best = k;
    }
  }
  return bestRate === -Infinity ? n : best;
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

/** L ~ ||g_t - g_{t-1}|| / ||x_t - x_{t-1}|| (the secant estimate); null when x did not move. */
export function secantSmoothness(gPrev: Float32Array, g: Float32Array, xPrev: Float32Array, x: Float32Array): number | null {
  let dg = 0;
  let dx = 0;
  for (let c = 0; c < g.length; c++) {
    dg += (g[c]! - gPrev[c]!) ** 2;
    dx += (x[c]! - xPrev[c]!) ** 2;
  }
  return dx > 0 ? Math.sqrt(dg / dx) : null;
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
