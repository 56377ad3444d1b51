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
 * The closed form holds from any column q0 of the grid to any later one (the chunk indices shift
 * by q0), so `run` jumps from column 0 towards the last phase as far as the values stay in the
 * binade of the column's smallest value (bisecting on the target column), and advances a column
 * that straddles a power of two (or holds a 0, or meets a tie, or whose integers could exceed
 * 2^53) by one phase of the step-by-step recurrence, then jumps again. A whole all-reduce inside
 * one binade is one O(n) jump; one that crosses a power of two costs O(n log n) plus O(n) per
 * phase during which the ranks' clocks straddle it (their spread / the phase time).
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
  /** All-reduces done by closed-form jumps alone, and those that stepped some phases (tests, benches). */
  hits = 0;
  misses = 0;

  private readonly colA: Float64Array;
  private readonly colB: Float64Array;

  constructor(
    private readonly n: number,
    /** Serialization time of chunk c, for c in [0, 2n) (doubled: ser[c + n] = ser[c]). */
    private readonly ser: Float64Array,
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
    // A jump of p <= 2n - 3 phases stores unrolled indices k in [-p, n-1] at k + p: 3n slots.
    const m = 3 * n;
    this.s0 = new Float64Array(n);
    this.hc = new Float64Array(m);
    this.hf = new Float64Array(m);
    this.prefix = new Float64Array(m + 1);
    this.nextCeil = new Int32Array(m + 1);
    this.best = new Float64Array(n);
    this.deque = new Int32Array(m);
    this.colA = new Float64Array(n);
    this.colB = new Float64Array(n);
  }

  /** Phases computed one by one (the columns that straddle a power of two), for tests and benches. */
  steppedPhases = 0;

  /**
   * One all-reduce from clocks `now` and link occupancy `free`, both updated as the step-by-step
   * model would. Columns of the (rank, phase) grid are reached by closed-form jumps inside one
   * binade; a column that straddles a power of two (or holds a 0, or meets a tie) is advanced
   * by one phase of the step-by-step recurrence instead, until the next jump fits.
   */
  run(now: Float64Array, free: Float64Array): void {
    const n = this.n;
    if (n < 2) return;
    let cur = this.colA;
    let next = this.colB;
    for (let i = 0; i < n; i++) {
      const t = now[i]!;
      const f = free[i]!;
      cur[i] = t > f ? t : f;
    }
    const last = 2 * n - 3;
    let stepped = false;
    // After a column that cannot jump, step `stride` phases before trying again (doubling while
    // it keeps failing): a column straddling a power of two usually does for many phases, and
    // each try costs a pass over the column.
    let stride = 1;
    for (let q = 0; q < last; ) {
      const q1 = this.farthestJump(cur, q, last, next);
      if (q1 > q) {
        const t = cur;
        cur = next;
        next = t;
        q = q1;
        stride = 1;
        continue;
      }
      stepped = true;
      for (let k = 0; k < stride && q < last; k++, q++) {
        this.stepPhase(cur, q, next);
        this.steppedPhases++;
        const t = cur;
        cur = next;
        next = t;
      }
      if (stride < 256) stride *= 2;
    }
    if (stepped) this.misses++;
    else this.hits++;
    // The last phase's sends: each link is free at its end; the chunk arrives at the successor.
    const ser = this.ser;
    const lat = this.latency;
    const c0 = (((-last) % n) + n) % n;
    for (let i = 0; i < n; i++) {
      const c = i + c0 >= n ? i + c0 - n : i + c0;
      free[i] = cur[i]! + ser[c]!;
    }
    for (let i = 0; i < n; i++) {
      const from = i === 0 ? n - 1 : i - 1;
      const arrival = free[from]! + lat;
      if (arrival > now[i]!) now[i] = arrival;
    }
  }

  /**
   * One phase step by step: out(i) = max(fl(fl(S(i-1) + b) + a), fl(S(i) + b')) for the chunks
   * sent at phase q (chunk (x - q) mod n from x), exactly NetworkModel's operations.
   */
  private stepPhase(col: Float64Array, q: number, out: Float64Array): void {
    const n = this.n;
    const ser = this.ser; // 2n entries: ser[c + n] = ser[c], so i + c0 needs no wrap
    const lat = this.latency;
    const c0 = (((-q) % n) + n) % n;
    {
      const diag = col[n - 1]! + ser[n - 1 + c0]! + lat;
      const horiz = col[0]! + ser[c0]!;
      out[0] = diag > horiz ? diag : horiz;
    }
    for (let i = 1; i < n; i++) {
      const diag = col[i - 1]! + ser[i - 1 + c0]! + lat;
      const horiz = col[i]! + ser[i + c0]!;
      out[i] = diag > horiz ? diag : horiz;
    }
  }

  /**
   * The largest q1 in (q, last] whose column the closed form reaches exactly from column q
   * (written into `out`), or q when none does (`last` itself when the whole all-reduce stays in
   * the binade, the usual case: one evaluation).
   */
  private farthestJump(col: Float64Array, q: number, last: number, out: Float64Array): number {
    const n = this.n;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const s = col[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    if (!(lo > 0) || !Number.isFinite(hi)) return q;
    let e = Math.floor(Math.log2(lo));
    // log2 may be off by one near powers of two: settle 2^e <= lo < 2^(e+1) exactly.
    while (2 ** e > lo) e--;
    while (2 ** (e + 1) <= lo) e++;
    if (e - 52 < -1000) return q;
    const base = 2 ** e;
    if (hi >= 2 * base) return q;
    const unit = 2 ** (e - 52);
    const bc = this.toUnits(this.serCeil, unit);
    const bf = this.toUnits(this.serFloor, unit);
    const al = this.toUnits(this.latency, unit);
    if (bc < 0 || bf < 0 || al < 0) return q;
    const s0 = this.s0;
    for (let i = 0; i < n; i++) s0[i] = (col[i]! - base) / unit; // exact: Sterbenz, then a power of two
    // Integers up to (n + p)(A + 2Bc) must stay exact (see jump): if even p = 1 is too far, the
    // all-reduce is long against the binade (the first steps of a run), so step.
    if ((n + 1) * (al + 2 * bc) >= 2 ** 52) return q;
    const reach = (q1: number) => this.jump(q, q1 - q, bc, bf, al);
    // Each phase adds between A + Bf and A + Bc to the column's largest value (a path from the
    // largest start), so the reachable columns end between these two estimates: try the first
    // (reachable unless integers could pass 2^53), then bisect what is left.
    const room = 2 ** 52 - 1 - (hi - base) / unit;
    let good = q;
    let bad = last + 1;
    if (al + bf > 0) bad = Math.min(bad, q + Math.floor(room / (al + bf)) + 2);
    let evaluated = -1;
    const guess = Math.min(last, bad - 1, al + bc > 0 ? q + Math.floor(room / (al + bc)) : last);
    if (guess > q) {
      if (reach(guess)) good = guess;
      else bad = guess;
      evaluated = guess;
    }
    while (bad - good > 1) {
      const mid = (good + bad) >> 1;
      evaluated = mid;
      if (reach(mid)) good = mid;
      else bad = mid;
    }
    if (good === q) return q;
    if (evaluated !== good) reach(good);
    const best = this.best;
    for (let i = 0; i < n; i++) out[i] = base + best[i]! * unit;
    return good;
  }

  /**
   * S(i, q0 + p) in units for all i from s0 = S(., q0) in units, into `best`; false if some
   * value leaves the binade (then the closed form is not what doubles do).
   */
  private jump(q0: number, p: number, bc: number, bf: number, al: number): boolean {
    const n = this.n;
    // Every integer below (s0 < 2^52, prefix sums up to (n + p) Bc, k (A + B) and i (A + B) with
    // |k|, i < n + p) stays under 2^53 in magnitude, where doubles hold integers exactly.
    if ((n + p) * (al + 2 * bc) >= 2 ** 52) return false;
    const s0 = this.s0;
    const off = p; // unrolled index k in [-p, n-1] is stored at k + p
    const m = n + p;
    const isCeil = this.isCeil;
    const prefix = this.prefix;
    // Chunk of unrolled index x (stored) for sources in column q0: (k - q0) mod n.
    const cOff = ((((-off - q0) % n) + n) % n);
    prefix[0] = 0;
    for (let x = 0, c = cOff; x < m; x++) {
      prefix[x + 1] = prefix[x]! + (isCeil[c] ? bc : bf);
      if (++c === n) c = 0;
    }
    const allCeil = bc === bf;
    const nextCeil = this.nextCeil;
    nextCeil[m] = m;
    for (let x = m - 1, c = (cOff + m - 1) % n; x >= 0; x--) {
      nextCeil[x] = allCeil || isCeil[c] ? x : nextCeil[x + 1]!;
      if (--c < 0) c = n - 1;
    }
    const hc = this.hc;
    const hf = this.hf;
    for (let x = 0, src = (((-off) % n) + n) % n; x < m; x++) {
      const k = x - off;
      const v = s0[src]! + prefix[x + 1]!;
      hc[x] = v - k * (al + bc);
      hf[x] = v - k * (al + bf);
      if (++src === n) src = 0;
    }
    // Ceil part: k in [g(i), i]; floor part: k in [i - p, min(g(i), i + 1) - 1]. Stored
    // indices: i is at i + off, i - p at i.
    const best = this.best;
    this.windowMax(hc, (i) => nextCeil[i]!, (i) => i + off, al + bc, best, true);
    this.windowMax(hf, (i) => i, (i) => Math.min(nextCeil[i]!, i + off + 1) - 1, al + bf, best, false);
    const top = 2 ** 52;
    for (let i = 0; i < n; i++) {
      const v = best[i]! - prefix[i + 1]!; // C(i - p + 1) is at stored index i + 1
      if (!(v < top)) return false;
      best[i] = v;
    }
    return true;
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
