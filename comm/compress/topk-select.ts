/**
 * Top-k selection without sorting: the k indices of largest |x_i|, ties broken by lower index,
 * returned in increasing index order (what the delta index coding wants).
 *
 * Keys: the key of x_i is its float32 bit pattern with the sign bit cleared. For non-negative
 * floats the bit patterns order exactly like the values, and NaN patterns sit above +inf, so a NaN
 * counts as the largest magnitude (it gets transmitted and the problem stays visible). Keys are
 * 31-bit integers, which is what makes radix (histogram) selection possible.
 *
 * The work is one partition pass over x with a key range [lo, hi]: keys above hi are certainly
 * selected ("above"), keys in [lo, hi] are candidates (kept with their keys), keys below lo are
 * certainly not. The partition is valid when #above <= k <= #above + #candidates. The range comes
 * from one of two places:
 *  - sampled (d >= 2^16): the keys of 16384 stratified, hash-jittered positions. The sample ranks
 *    k * m / d -/+ 4 (standard deviations + 1) bracket the threshold with overwhelming
 *    probability, so x is read once, and the candidates are a fraction of a percent of d.
 *    If the data defeat the sample (a partition overflows its expected size or does not bracket
 *    k, e.g. all keys equal) the selector falls back to:
 *  - exact: a histogram of the top 11 key bits over all of x (2048 bins, 8 KB) gives the bin
 *    holding the k-th largest key; that bin is [lo, hi]. Two passes over x, always valid.
 * Then a 3-level radix select (11 + 10 + 10 bits) over the candidates' keys finds the exact
 * threshold key T and how many keys equal to T are still needed; a final merge of "above" with the
 * candidates whose key is > T, or == T while ties are needed (lowest indices first), writes the
 * sorted result. Worst case O(d) whatever the data (no pivots to defeat, ties cost nothing extra);
 * typical cost one sequential read of x.
 */
import { growF32, growU32 } from './scratch.ts';
// mix32 gives the sample a fixed jitter: no randomness is consumed.
import { mix32 } from '../hash.ts';

/** Below this length the exact path is used directly (the sample would be most of the vector). */
const SAMPLED_MIN_LENGTH = 1 << 16;
const SAMPLE_SIZE = 1 << 14;

/** Keys of x are bits & KEY_MASK. */
const KEY_MASK = 0x7fffffff;

export interface TopKSelectorOptions {
  /**
   * Half-width of the sampled rank bracket in standard deviations (default 4, plus 4 ranks).
   * Smaller brackets give fewer candidates but fall back to the exact path more often; results
   * never depend on it.
   */
  sampleSds?: number;
}

export class TopKSelector {
  /** Which range the last `select` used: diagnostics for tests and benchmarks. */
  lastPath: 'trivial' | 'sampled' | 'exact' = 'trivial';
  private readonly hist = new Uint32Array(2048);
  private sample = new Uint32Array(0);
  private above = new Uint32Array(0);
  private cand = new Uint32Array(0);
  private candKeys = new Uint32Array(0);
  private na = 0;
  private nc = 0;
  /** Set by kth(): how many keys equal to the returned key complete the rank. */
  private tiesNeeded = 0;
  private readonly sampleSds: number;

  constructor(options: TopKSelectorOptions = {}) {
    this.sampleSds = options.sampleSds ?? 4;
  }

  /** Write the indices of the k largest |x_i| (ties: lower index first) to out[0..k), increasing. */
  select(x: Float32Array, k: number, out: Uint32Array): void {
    const d = x.length;
    if (!Number.isInteger(k) || k < 0 || k > d) throw new Error(`top-k: k = ${k} must be an integer in [0, ${d}]`);
    if (out.length < k) throw new Error(`top-k: output holds ${out.length} indices, needs ${k}`);
    this.lastPath = 'trivial';
    if (k === 0) return;
    if (k === d) {
      for (let i = 0; i < d; i++) out[i] = i;
      return;
    }
    const bits = new Uint32Array(x.buffer, x.byteOffset, d);
    if (d >= SAMPLED_MIN_LENGTH && this.partitionSampled(bits, k)) this.lastPath = 'sampled';
    else {
      this.partitionExact(bits, k);
      this.lastPath = 'exact';
    }

    const na = this.na;
    const nc = this.nc;
    const above = this.above;
    const cand = this.cand;
    const candKeys = this.candKeys;
    const need = k - na; // 0..nc candidates to take
    let threshold = -1; // every candidate key is > -1: all taken when need === nc
    let ties = 0;
    if (need === 0) threshold = KEY_MASK + 1; // no key exceeds it: none taken
    else if (need < nc) {
      threshold = this.kth(candKeys, nc, need);
      ties = this.tiesNeeded;
    }
    // Merge the candidates above the threshold, plus the first `ties` equal to it, with `above`.
    let o = 0;
    let ia = 0;
    for (let j = 0; j < nc; j++) {
      const key = candKeys[j]!;
      if (key > threshold || (key === threshold && ties-- > 0)) {
        const i = cand[j]!;
        while (ia < na && above[ia]! < i) out[o++] = above[ia++]!;
        out[o++] = i;
      }
    }
    while (ia < na) out[o++] = above[ia++]!;
    if (o !== k) throw new Error(`top-k: internal error, selected ${o} of ${k}`);
  }

  /**
   * Key range from a sample, then one partition pass. False if the range turned out not to
   * bracket the k-th key, or a list outgrew the size the sample predicted.
   */
  private partitionSampled(bits: Uint32Array, k: number): boolean {
    const d = bits.length;
    const m = SAMPLE_SIZE;
    const sample = (this.sample = growU32(this.sample, m));
    // Stratified: one position in each of m equal strata, jittered by a fixed hash so periodic
    // data (tensor layouts) cannot line up with the stride.
    for (let j = 0; j < m; j++) {
      const pos = Math.floor(((j + mix32(j + 0x9e3779b9) / 4294967296) * d) / m);
      sample[j] = bits[pos]! & KEY_MASK;
    }
    // Rank of the threshold in the sample: mean k m / d, sd <= sqrt(k m / d (1 - k / d)).
    const mean = (k * m) / d;
    const margin = this.sampleSds * (Math.sqrt(mean * (1 - k / d)) + 1);
    const rHi = Math.floor(mean - margin); // keys above the rHi-th largest sample key: surely in
    const rLo = Math.ceil(mean + margin); // keys below the rLo-th largest: surely out
    if (rLo >= m || rLo < 1) return false; // k is most of d: the exact path is as cheap
    const hi = rHi >= 1 ? this.kth(sample, m, rHi) : KEY_MASK;
    const lo = this.kth(sample, m, rLo);
    // Expected list sizes, with room: about rHi / m and (rLo - rHi) / m of d.
    const capAbove = k;
    const capCand = Math.min(d, Math.ceil((2 * (rLo - Math.max(rHi, 0)) * d) / m) + 1024);
    this.ensureLists(capAbove, capCand);
    if (!this.partition(bits, lo, hi, capAbove, capCand)) return false;
    return this.na <= k && k <= this.na + this.nc;
  }

  /** Histogram of the top 11 key bits over all of x; its k-th bin is the candidate range. */
  private partitionExact(bits: Uint32Array, k: number): void {
    const d = bits.length;
    const hist = this.hist;
    hist.fill(0);
    for (let i = 0; i < d; i++) hist[(bits[i]! & KEY_MASK) >>> 20]!++;
    let b1 = 2047;
    let nAbove = 0;
    for (; ; b1--) {
      const c = hist[b1]!;
      if (nAbove + c >= k) break;
      nAbove += c;
    }
    const nCand = hist[b1]!;
    this.ensureLists(nAbove, nCand);
    const lo = b1 << 20;
    this.partition(bits, lo, lo | 0xfffff, nAbove, nCand);
  }

  private ensureLists(capAbove: number, capCand: number): void {
    this.above = growU32(this.above, capAbove);
    this.cand = growU32(this.cand, capCand);
    this.candKeys = growU32(this.candKeys, capCand);
  }

  /**
   * The one pass over x: indices with key > hi go to `above`, keys in [lo, hi] to the candidates
   * (with their keys). The common case (key < lo) is a single predictable compare. False when a
   * list would exceed its capacity.
   */
  private partition(bits: Uint32Array, lo: number, hi: number, capAbove: number, capCand: number): boolean {
    const d = bits.length;
    const above = this.above;
    const cand = this.cand;
    const candKeys = this.candKeys;
    let na = 0;
    let nc = 0;
    let ok = true;
    for (let i = 0; i < d; i++) {
      const key = bits[i]! & KEY_MASK;
      if (key >= lo) {
        if (key > hi) {
          if (na === capAbove) {
            ok = false;
            break;
          }
          above[na++] = i;
        } else {
          if (nc === capCand) {
            ok = false;
            break;
          }
          cand[nc] = i;
          candKeys[nc++] = key;
        }
      }
    }
    this.na = na;
    this.nc = nc;
    return ok;
  }

  /**
   * The r-th largest of keys[0..n) (1 <= r <= n) by a 3-level radix select (11, 10, 10 bits),
   * three passes over the keys; sets tiesNeeded = r - #(keys > result).
   */
  private kth(keys: Uint32Array, n: number, r: number): number {
    const hist = this.hist;
    hist.fill(0);
    for (let j = 0; j < n; j++) hist[keys[j]! >>> 20]!++;
    let b1 = 2047;
    for (; ; b1--) {
      const c = hist[b1]!;
      if (c >= r) break;
      r -= c;
    }
    hist.fill(0, 0, 1024);
    for (let j = 0; j < n; j++) {
      const key = keys[j]!;
      if (key >>> 20 === b1) hist[(key >>> 10) & 0x3ff]!++;
    }
    let b2 = 1023;
    for (; ; b2--) {
      const c = hist[b2]!;
      if (c >= r) break;
      r -= c;
    }
    const prefix = (b1 << 10) | b2;
    hist.fill(0, 0, 1024);
    for (let j = 0; j < n; j++) {
      const key = keys[j]!;
      if (key >>> 10 === prefix) hist[key & 0x3ff]!++;
    }
    let b3 = 1023;
    for (; ; b3--) {
      const c = hist[b3]!;
      if (c >= r) break;
      r -= c;
    }
    this.tiesNeeded = r;
    return (prefix << 10) | b3;
  }
}

/**
 * The top-k of a vector gathered for a compressor (top-k, sign∘top-k, QSGD∘top-k): the indices
 * (increasing) in `idx[0..k)` and their values in `vals[0..k)`, in scratch kept between calls.
 */
export class TopKGather {
  private readonly selector = new TopKSelector();
  idx = new Uint32Array(0);
  vals = new Float32Array(0);

  gather(x: Float32Array, k: number): void {
    const idx = (this.idx = growU32(this.idx, k));
    const vals = (this.vals = growF32(this.vals, k));
    this.selector.select(x, k, idx);
    for (let j = 0; j < k; j++) vals[j] = x[idx[j]!]!;
  }
}
