/**
 * The exact O(n) shortcut for one ring all-reduce on a ring of identical links (what
 * UniformRingAllReduce computes step by step in 2n(n-1) iterations).
 *
 * The step-by-step model, per sender i and phase p (0 <= p < P = 2(n-1)): it starts its send at
 *   S(i,0) = max(clock_i, linkFree_i),
 *   S(i,p) = max(fl(fl(S(i-1,p-1) + b(i-1,p-1)) + a), fl(S(i,p-1) + b(i,p-1)))
 * (the chunk received at p-1 and its own previous send on its FIFO link), where b(i,p) is the
 * serialization time of the chunk i sends at phase p, chunk (i - p) mod n in both halves, a the
 * latency, fl() double rounding. Because rounding is monotone, fl(max(x, y) + c) =
 * max(fl(x + c), fl(y + c)): S(i,p) is the largest, over the paths through the (i, p) grid, of
 * the path's additions evaluated in order in doubles. Different orders of the same additions may
 * round differently, so no closed form over reals reproduces those doubles in general.
 *
 * Inside one binade [2^e, 2^(e+1)) they do: every double there is a multiple of u = 2^(e-52), and
 * for x there, fl(x + b) = x + round(b/u) u exactly, whenever the result stays in the binade and
 * b/u is not exactly halfway between two integers (ties round to even, which depends on x). The
 * recurrence then runs on integers (units of u), where addition is exact and order does not
 * matter, and the longest path has a closed form. A path from source k = i - j (indices unrolled
 * around the ring) to (i, p) takes j diagonal steps and p - j horizontal ones; a horizontal step
 * from chunk index d = x - q moves to d - 1, a diagonal one keeps d. Its length is
 *   s0(k) + sum_{d in (i-p, k]} B(d) + j (A + max_{d in [i-p, k]} B(d))
 * (all diagonal steps taken at the largest chunk on the way). Chunk sizes take at most two values
 * (floor and ceil of len/n), so with g(i) the first ceil chunk at or after i - p:
 *   S(i,p) = max( max_{k in [g(i), i]} Hc(k) + i (A + Bc), max_{k in [i-p, g(i)-1]} Hf(k) + i (A + Bf) ) - C(i-p+1),
 *   H_B(k) = s0(k) + C(k+1) - k (A + B),  C(x) = sum_{d < x} B(d),
 * two sliding-window maxima over windows whose ends only move forward: O(n) with monotone deques.
 * Only the last phase P-1 is needed: each node's clock becomes max(clock, arrival of the last
 * chunk it receives) (arrivals only grow) and its link is free at the end of its last send.
 *
 * When the all-reduce does not fit in one binade (it crosses a power of two, a start is 0, an
 * addend is a tie, or integers would exceed 2^53) `tryRun` returns false and leaves everything
 * untouched; the caller then runs the step-by-step model. In a long run that is the few
 * all-reduces that cross a power of two of virtual time.
 */
export class RingAllReduceShortcut {
  private readonly s0: Float64Array;
  private readonly hc: Float64Array;
  private readonly hf: Float64Array;
  /** C(x) over unrolled chunk indices: prefix sums of integer serialization times. */
  private readonly prefix: Float64Array;
  /** Per unrolled index, the first ceil chunk at or after it (unrolled), or the end. */
  private readonly nextCeil: Int32Array;
  private readonly best: Float64Array;
  private readonly deque: Int32Array;
  private readonly isCeil: Uint8Array;
  private readonly serCeil: number;
  private readonly serFloor: number;
  /** All-reduces done by the shortcut and handed back to the step-by-step model (for tests and benches). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly n: number,
    /** Serialization time of chunk c, c in [0, n) (at least n entries). */
    ser: Float64Array,
    private readonly latency: number,
  ) {
    let hi = -Infinity;
    let lo = Infinity;
    for (let c = 0; c < n; c++) {
      hi = Math.max(hi, ser[c]!);
      lo = Math.min(lo, ser[c]!);
    }
    this.serCeil = hi;
    this.serFloor = lo;
    this.isCeil = new Uint8Array(n);
    for (let c = 0; c < n; c++) {
      if (ser[c] !== hi && ser[c] !== lo) throw new Error(`ring shortcut: chunk ${c} is neither of the two chunk sizes`);
      this.isCeil[c] = ser[c] === hi ? 1 : 0;
    }
    // Unrolled indices d in [-(P-1), n-1] are stored at d + P - 1, P - 1 = 2n - 3.
    const m = 3 * n;
    this.s0 = new Float64Array(n);
    this.hc = new Float64Array(m);
    this.hf = new Float64Array(m);
    this.prefix = new Float64Array(m + 1);
    this.nextCeil = new Int32Array(m + 1);
    this.best = new Float64Array(n);
    this.deque = new Int32Array(m);
  }

  /**
   * One all-reduce from clocks `now` and link occupancy `free` (both updated as the step-by-step
   * model would) if it fits in one binade; returns false, with nothing changed, otherwise.
   */
  tryRun(now: Float64Array, free: Float64Array): boolean {
    const n = this.n;
    if (n < 2) return false;
    const s0 = this.s0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = now[i]!;
      const f = free[i]!;
      const s = t > f ? t : f;
      s0[i] = s;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (!(lo > 0) || !Number.isFinite(hi)) return this.miss();
    let e = Math.floor(Math.log2(lo));
    // log2 may be off by one near powers of two: settle 2^e <= lo < 2^(e+1) exactly.
    while (2 ** e > lo) e--;
    while (2 ** (e + 1) <= lo) e++;
    if (e - 52 < -1000) return this.miss();
    const base = 2 ** e;
    const unit = 2 ** (e - 52);
    const top = 2 ** 52; // the binade's end, in units
    if (hi >= 2 * base) return this.miss();
    const bc = this.toUnits(this.serCeil, unit);
    const bf = this.toUnits(this.serFloor, unit);
    const al = this.toUnits(this.latency, unit);
    if (bc < 0 || bf < 0 || al < 0) return this.miss();
    // Every integer below stays under 2^53 in magnitude when 6n (A + Bc) < 2^52.
    if (6 * n * (al + bc) >= top) return this.miss();
    for (let i = 0; i < n; i++) s0[i] = (s0[i]! - base) / unit; // exact: Sterbenz, then a power of two

    const p = 2 * n - 3; // the last phase
    const off = p; // unrolled index d is stored at d + off
    const m = 3 * n;
    const isCeil = this.isCeil;
    const prefix = this.prefix;
    prefix[0] = 0;
    for (let x = 0; x < m; x++) {
      const c = (((x - off) % n) + n) % n;
      prefix[x + 1] = prefix[x]! + (isCeil[c] ? bc : bf);
    }
    const allCeil = bc === bf;
    const nextCeil = this.nextCeil;
    nextCeil[m] = m;
    for (let x = m - 1; x >= 0; x--) nextCeil[x] = allCeil || isCeil[(((x - off) % n) + n) % n] ? x : nextCeil[x + 1]!;
    const hc = this.hc;
    const hf = this.hf;
    for (let x = 0; x < m; x++) {
      const k = x - off;
      const c = ((k % n) + n) % n;
      const v = s0[c]! + prefix[x + 1]!;
      hc[x] = v - k * (al + bc);
      hf[x] = v - k * (al + bf);
    }
    // Ceil part: k in [g(i), i]; floor part: k in [i - p, min(g(i), i + 1) - 1]. Stored
    // indices: i is at i + off, i - p at i.
    const best = this.best;
    this.windowMax(hc, (i) => nextCeil[i]!, (i) => i + off, al + bc, best, true);
    this.windowMax(hf, (i) => i, (i) => Math.min(nextCeil[i]!, i + off + 1) - 1, al + bf, best, false);

    // S(i, P-1) in units; then the last send's end and the last chunk's arrival at i + 1.
    let maxArrival = -Infinity;
    for (let i = 0; i < n; i++) {
      const s = best[i]! - prefix[i + 1]!; // C(i - p + 1) is at stored index i + 1
      const last = isCeil[(i + 3) % n] ? bc : bf;
      const arrival = s + last + al;
      best[i] = s;
      if (arrival > maxArrival) maxArrival = arrival;
    }
    if (!(maxArrival < top)) return this.miss();
    // Commit: the last chunk i receives came from i - 1 (the final value of now[0] needs the
    // old now[n-1]'s neighbour, which is best[n-1]: nothing read below is written before).
    for (let i = 0; i < n; i++) {
      const s = best[i]!;
      const end = s + (isCeil[(i + 3) % n] ? bc : bf);
      free[i] = base + end * unit;
    }
    for (let i = 0; i < n; i++) {
      const from = i === 0 ? n - 1 : i - 1;
      const arrival = base + (best[from]! + (isCeil[(from + 3) % n] ? bc : bf) + al) * unit;
      if (arrival > now[i]!) now[i] = arrival;
    }
    this.hits++;
    return true;
  }

  private miss(): false {
    this.misses++;
    return false;
  }

  /** round(x / unit) when that is what adding x does in this binade; -1 for a tie (or a value too large). */
  private toUnits(x: number, unit: number): number {
    const y = x / unit; // exact: unit is a power of two
    if (y >= 2 ** 52) return -1;
    const f = Math.floor(y);
    const frac = y - f;
    if (frac === 0.5) return -1;
    return frac < 0.5 ? f : f + 1;
  }

  /**
   * For each i in [0, n): max of h over stored indices [lo(i), hi(i)] plus i * slope, into
   * best[i] (`first`) or maxed into it. Both ends are nondecreasing in i: a monotone deque.
   */
  private windowMax(h: Float64Array, lo: (i: number) => number, hi: (i: number) => number, slope: number, best: Float64Array, first: boolean): void {
    const dq = this.deque;
    let head = 0;
    let tail = 0;
    let next = 0; // next stored index to push
    for (let i = 0; i < this.n; i++) {
      const a = lo(i);
      const b = hi(i);
      for (; next <= b; next++) {
        const v = h[next]!;
        while (tail > head && h[dq[tail - 1]!]! <= v) tail--;
        dq[tail++] = next;
      }
      while (tail > head && dq[head]! < a) head++;
      const v = tail > head && a <= b ? h[dq[head]!]! + i * slope : -Infinity;
      best[i] = first || v > best[i]! ? v : best[i]!;
    }
  }
}
