/**
 * Staleness bookkeeping for asynchronous SGD through a parameter server: the staleness of an
 * applied gradient is the server's model version when it is applied minus the version the
 * worker computed it on (0 = fresh). Histogram, count, mean, max; and the `scale-lr` policy
 * (divide the step by 1 + staleness, the staleness-aware learning rate of Zhang, Gupta, Lian,
 * Liu, "Staleness-aware async-SGD for distributed deep learning", IJCAI 2016).
 * Pure; the histogram grows (doubling) only when a new maximum staleness appears.
 */
export type StalenessPolicy = 'ignore' | 'scale-lr';

export class StalenessTracker {
  private counts = new Float64Array(16);
  private n = 0;
  private sum = 0;
  private maxSeen = -1;

  /** Record one applied gradient; returns its staleness. */
  record(serverVersion: number, computedVersion: number): number {
    const s = serverVersion - computedVersion;
    if (!Number.isInteger(s) || s < 0) {
      throw new Error(`staleness: gradient computed on version ${computedVersion} applied at version ${serverVersion}`);
    }
    if (s >= this.counts.length) {
      let len = this.counts.length;
      while (len <= s) len *= 2;
      const grown = new Float64Array(len);
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[s] = this.counts[s]! + 1;
    this.n++;
    this.sum += s;
    if (s > this.maxSeen) this.maxSeen = s;
    return s;
  }

  get count(): number {
    return this.n;
  }
  /** Mean staleness (0 before any record). */
  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }
  /** Largest staleness seen (-1 before any record). */
  get max(): number {
    return this.maxSeen;
  }

  /** histogram[s] = how many applied gradients had staleness s, for s = 0..max. */
  histogram(): number[] {
    return Array.from(this.counts.subarray(0, this.maxSeen + 1));
  }

  /** For metrics/summary JSON. */
  toJSON(): { count: number; mean: number; max: number; histogram: number[] } {
    return { count: this.n, mean: this.mean, max: this.maxSeen, histogram: this.histogram() };
  }
}

/** The learning-rate multiplier for a gradient of staleness s. */
export function stalenessLrScale(policy: StalenessPolicy, s: number): number {
  return policy === 'scale-lr' ? 1 / (1 + s) : 1;
}
