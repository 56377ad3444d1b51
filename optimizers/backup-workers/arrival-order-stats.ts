/**
 * Order statistics of arrival times over a sliding window of steps: for each k = 1..n, the mean
 * over the last W steps of T_(k), the virtual time from the step's start until its k-th gradient
 * arrived. The estimate E[T_(k)] the dynamic backup-worker rule trades against progress.
 * Fixed storage (n x W), no allocation per step; pure (virtual times in, numbers out).
 */
export class ArrivalOrderStats {
  private readonly window: Float64Array;
  private readonly scratch: Float64Array;
  private filled = 0;
  private next = 0;

  constructor(
    readonly n: number,
    readonly size: number,
  ) {
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(size) && size >= 1)) {
      throw new Error(`ArrivalOrderStats: n = ${n}, window = ${size}`);
    }
    this.window = new Float64Array(n * size);
    this.scratch = new Float64Array(n);
  }

  /** Steps recorded so far (up to the window size). */
  get steps(): number {
    return this.filled;
  }

  /**
   * Record one step: the arrival offsets (arrival time - step start) of its gradients, any order.
   * Fewer than n values (the master stopped listening after its k-th) are allowed only
   * together with a `censoredAt`: the time the step ended; the missing order statistics are
   * recorded as that time (a lower bound, as the unseen gradients arrived later).
   */
  record(offsets: ArrayLike<number>, censoredAt?: number): void {
    const m = offsets.length;
    if (m > this.n || (m < this.n && censoredAt === undefined)) {
      throw new Error(`ArrivalOrderStats: ${m} arrivals for ${this.n} workers${m < this.n ? ' without a censoring time' : ''}`);
    }
    const s = this.scratch;
    for (let i = 0; i < m; i++) s[i] = offsets[i]!;
    for (let i = 1; i < m; i++) {
      const v = s[i]!;
      let j = i - 1;
      while (j >= 0 && s[j]! > v) {
        s[j + 1] = s[j]!;
        j--;
      }
      s[j + 1] = v;
    }
    for (let i = m; i < this.n; i++) s[i] = Math.max(censoredAt!, m > 0 ? s[m - 1]! : 0);
    this.window.set(s, this.next * this.n);
    this.next = (this.next + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  /** out[k-1] = mean over the window of T_(k). Zeros before anything was recorded. */
  meanKth(out: Float64Array): void {
    out.fill(0);
    if (this.filled === 0) return;
    for (let w = 0; w < this.filled; w++) {
      const o = w * this.n;
      for (let k = 0; k < this.n; k++) out[k] = out[k]! + this.window[o + k]!;
    }
    const inv = 1 / this.filled;
    for (let k = 0; k < this.n; k++) out[k] = out[k]! * inv;
  }
}
