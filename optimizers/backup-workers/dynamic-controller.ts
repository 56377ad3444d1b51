/**
 * `backup: dynamic` as one stateful, pure object the master consults each step: it keeps the
 * arrival order statistics of the last `window` steps and the latest progress estimates, and
 * answers how many gradients to wait for (see dynamic-backup.ts for the rule and its source).
 *
 * Causality: the master records only what it has seen when the step ends, the first k arrival
 * offsets; the unseen n - k are censored at the step's end (their true times are later), so the
 * rule never uses a time from the virtual future. Censoring biases E[T_(j)], j > k, downwards,
 * which makes waiting for more look cheaper: the controller probes larger k and learns their
 * real cost, so it cannot lock itself into a small k.
 *
 * The first `window` steps wait for everyone (b = 0), which also fills the window with
 * uncensored order statistics.
 */
import { ArrivalOrderStats } from './arrival-order-stats.ts';
import { chooseWaitCount, gradientStats, noiseScale } from './dynamic-backup.ts';

export class DynamicBackupController {
  private readonly stats: ArrivalOrderStats;
  private readonly kth: Float64Array;
  private g = 0;
  private s2 = 0;
  private seen = 0;

  constructor(
    readonly n: number,
    readonly window = 10,
    /** Never wait for fewer than this many gradients. */
    readonly minWait = 1,
  ) {
    if (!(Number.isInteger(minWait) && minWait >= 1 && minWait <= n)) throw new Error(`dynamic backup: minWait ${minWait} for ${n} workers`);
    this.stats = new ArrivalOrderStats(n, window);
    this.kth = new Float64Array(n);
  }

  /**
   * The gradients the master used this step (at least two give a variance): G and s2 are
   * smoothed separately by an exponential moving average (weight `smoothing` on the past).
   */
  observeGradients(grads: readonly Float32Array[], smoothing = 0.9): void {
    if (grads.length < 2) return;
    const e = gradientStats(grads);
    const w = this.seen === 0 ? 0 : smoothing;
    this.g = w * this.g + (1 - w) * e.gradNormSq;
    this.s2 = w * this.s2 + (1 - w) * e.variance;
    this.seen++;
  }

  /** The smoothed noise scale B = s2 / G (Infinity before any gradients or with G <= 0). */
  get noiseScale(): number {
    return this.seen === 0 ? Infinity : noiseScale({ gradNormSq: this.g, variance: this.s2 });
  }

  /** Set the noise scale directly (tests, or a caller with its own estimate). */
  setNoiseScale(b: number, weight = 1): void {
    this.g = 1;
    this.s2 = b;
    this.seen = Math.max(this.seen, weight);
  }

  /** How many gradients this step waits for (b = n - k backups). */
  waitCount(): number {
    if (this.stats.steps < this.window) return this.n;
    this.stats.meanKth(this.kth);
    return Math.max(this.minWait, chooseWaitCount(this.kth, this.noiseScale));
  }

  /**
   * After the step: the arrival offsets (arrival - step start) of the gradients it used, in any
   * order, and the step's length (the last used arrival).
   */
  observe(usedOffsets: ArrayLike<number>, stepLength: number): void {
    this.stats.record(usedOffsets, usedOffsets.length < this.n ? stepLength : undefined);
  }
}
