/**
 * Selective-reattempt sequential gradient coding (SR-SGC; Krishnan, Ebrahimi, Khisti,
 * "Sequential gradient coding for straggler mitigation", ICLR 2023, the first of its two schemes).
 *
 * Jobs t = 1, 2, ... (one gradient each) start in round t and must be decoded by the end of
 * round t + B. Parameters (n, B, W, lambda) with B dividing W - 1; the scheme runs an (n, s)
 * gradient code with
 *
 *   s = ceil(B lambda / (W - 1 + B))
 *
 * (load (s + 1)/n per worker, the load of plain GC tolerating s), and tolerates every straggler
 * pattern of the (B, W, lambda)-bursty model: in any W consecutive rounds at most lambda distinct
 * workers straggle, and a worker that straggles in round r did not straggle in rounds
 * r - W + 1 .. r - B (its straggling rounds come in bursts of at most B). Rounds that plain GC
 * handles on its own (at most s stragglers, every worker on its own round's job) do not count
 * toward the model.
 *
 * Round r: every worker computes its coded task of job r, except that if job r - B lost v > s
 * workers in round r - B, the first v - s of those (by id) reattempt their task of job r - B
 * instead. Job t decodes once n - s distinct workers delivered its task (in round t, or as a
 * reattempt in round t + B). Pure bookkeeping: which worker computes which job, and when a job
 * decodes; the vectors and the decoding itself are the gradient code's (src/coding).
 */

export interface SrSgcParams {
  n: number;
  B: number;
  W: number;
  lambda: number;
}

/** s of the underlying gradient code. */
export function srSgcStragglers(p: { B: number; W: number; lambda: number }): number {
  return Math.ceil((p.B * p.lambda) / (p.W - 1 + p.B));
}

/** A reason the parameters are invalid, or null. */
export function srSgcParamError(p: SrSgcParams): { key: 'B' | 'W' | 'lambda'; expected: string; found: number } | null {
  if (!(Number.isInteger(p.B) && p.B >= 1)) return { key: 'B', expected: 'an integer B >= 1', found: p.B };
  if (!(Number.isInteger(p.W) && p.W > p.B && (p.W - 1) % p.B === 0)) return { key: 'W', expected: `an integer W > B with B (${p.B}) dividing W - 1`, found: p.W };
  if (!(Number.isInteger(p.lambda) && p.lambda >= 1 && p.lambda <= p.n)) return { key: 'lambda', expected: `an integer 1 <= lambda <= workers (${p.n})`, found: p.lambda };
  if (srSgcStragglers(p) >= p.n) return { key: 'lambda', expected: `lambda with s = ceil(B lambda / (W - 1 + B)) below workers (${p.n})`, found: p.lambda };
  return null;
}

/** What a worker returned in a round: the job of its task, or STRAGGLED. */
export const STRAGGLED = -1;

export class SelectiveReattempt {
  readonly s: number;
  /**
   * Per worker, the counted rounds (those plain GC did not absorb) in which it straggled,
   * ascending, from `first[i]` on (older entries fall out of every window). Kept per worker, not
   * per round, so a check costs O(n log) whatever W is: W comes from the config and may exceed
   * the run, and a scan over the window's rounds would make the run quadratic in its steps.
   */
  private readonly straggled: number[][];
  private readonly first: Int32Array;
  /** Workers that delivered job t, ascending (distinct: a worker reattempts only what it lost). */
  private readonly delivered = new Map<number, number[]>();
  private readonly done = new Set<number>();
  private last = 0;

  constructor(readonly p: SrSgcParams) {
    const err = srSgcParamError(p);
    if (err) throw new Error(`SR-SGC: ${err.key}: expected ${err.expected}, found ${err.found}`);
    this.s = srSgcStragglers(p);
    this.straggled = Array.from({ length: p.n }, () => []);
    this.first = new Int32Array(p.n);
  }

  /** The job each worker computes in round r (r, or r - B for the selected reattempts). */
  tasks(r: number): Int32Array {
    const { n, B } = this.p;
    const t = new Int32Array(n).fill(r);
    const old = r - B;
    if (old >= 1 && !this.done.has(old)) {
      const got = new Set(this.delivered.get(old) ?? []);
      const lost = Array.from({ length: n }, (_, i) => i).filter((i) => !got.has(i));
      for (const i of lost.slice(0, Math.max(0, lost.length - this.s))) t[i] = old;
    }
    return t;
  }

  /** Whether a round's results count toward the straggler model (plain GC did not absorb it). */
  private counted(r: number, res: Int32Array): boolean {
    let stragglers = 0;
    let ownJobOnly = true;
    for (const j of res) {
      if (j === STRAGGLED) stragglers++;
      else if (j !== r) ownJobOnly = false;
    }
    return !(ownJobOnly && stragglers <= this.s);
  }

  /** Whether worker i straggled in a counted round of [from, to] (1-based). */
  private straggledIn(i: number, from: number, to: number): boolean {
    const list = this.straggled[i]!;
    // First entry >= from (binary search from first[i]).
    let lo = this.first[i]!;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length && list[lo]! <= to;
  }

  /** Workers that straggled in counted rounds of [from, to] (1-based, clipped). */
  private stragglersIn(from: number, to: number): Set<number> {
    const out = new Set<number>();
    for (let i = 0; i < this.p.n; i++) if (this.straggledIn(i, Math.max(1, from), to)) out.add(i);
    return out;
  }

  /** Whether straggling workers `stragglers` in round r keep the pattern within the (B, W, lambda) model. */
  conforms(r: number, stragglers: readonly number[]): boolean {
    const { W, B, lambda } = this.p;
    const window = this.stragglersIn(r - W + 1, r - 1);
    for (const i of stragglers) window.add(i);
    if (window.size > lambda) return false;
    const earlier = this.stragglersIn(r - W + 1, r - B);
    return !stragglers.some((i) => earlier.has(i));
  }

  /**
   * The jobs that decode at the end of round r if `stragglers` straggle (without recording
   * anything), and whether every job that must be done by then (r - B) is.
   */
  outcome(r: number, stragglers: readonly number[]): { decoded: number[]; complete: boolean } {
    const tasks = this.tasks(r);
    const late = new Set(stragglers);
    const decoded: number[] = [];
    const { n, B } = this.p;
    for (const job of [r - B, r]) {
      if (job < 1 || this.done.has(job) || decoded.includes(job)) continue;
      let count = (this.delivered.get(job) ?? []).length;
      for (let i = 0; i < n; i++) if (tasks[i] === job && !late.has(i)) count++;
      if (count >= n - this.s) decoded.push(job);
    }
    const oldest = r - B;
    return { decoded, complete: oldest < 1 || this.done.has(oldest) || decoded.includes(oldest) };
  }

  /** Record round r (stragglers delivered nothing); returns the jobs that decode now, oldest first. */
  record(r: number, stragglers: readonly number[]): number[] {
    if (r !== this.last + 1) throw new Error(`SR-SGC: round ${r} recorded after round ${this.last}`);
    this.last = r;
    const tasks = this.tasks(r);
    const { decoded } = this.outcome(r, stragglers);
    const late = new Set(stragglers);
    const res = new Int32Array(this.p.n);
    tasks.forEach((job, i) => {
      res[i] = late.has(i) ? STRAGGLED : job;
      if (late.has(i)) return;
      const list = this.delivered.get(job) ?? [];
      list.push(i);
      list.sort((a, b) => a - b);
      this.delivered.set(job, list);
    });
    if (this.counted(r, res)) {
      for (const i of late) {
        const list = this.straggled[i]!;
        list.push(r);
        // Rounds before r - W + 2 are in no later round's window: skip them, and compact now and then.
        let f = this.first[i]!;
        while (list[f]! < r - this.p.W + 2) f++;
        if (f > 64 && f * 2 > list.length) {
          list.splice(0, f);
          f = 0;
        }
        this.first[i] = f;
      }
    }
    for (const job of decoded) this.done.add(job);
    // Forget what no later round can need.
    this.delivered.delete(r - this.p.B - 1);
    return decoded;
  }

  /** The workers that delivered job t so far, ascending. */
  deliveredBy(job: number): readonly number[] {
    return this.delivered.get(job) ?? [];
  }

  isDecoded(job: number): boolean {
    return this.done.has(job);
  }
}
