/**
 * A collective as data: rounds of transfers of element ranges between ranks. Every rank derives
 * the same schedule from (algorithm, n, length), so the bytes moved by the executor
 * (run-schedule.ts) and the time-only simulation (src/sim/collective-time.ts) follow one
 * description.
 *
 * Round semantics (the alpha-beta step model of Thakur, Rabenseifner & Gropp): in round k a rank
 * first sends its transfers of the round (the values it holds when the round starts), then
 * receives its incoming ones (`reduce`: added, else copied). A rank's round ends when its
 * receives and its own sends have arrived (sends are blocking), and its next round starts then.
 */
export interface Transfer {
  from: number;
  to: number;
  /** Element range [start, end) of the vector (fractional only in `exact` schedules). */
  start: number;
  end: number;
  reduce: boolean;
  /**
   * Payload bytes when they are not (end - start) elements: sized schedules (schedules/sized.ts:
   * variable-size payloads, bundles, gossip messages), whose start/end are 0.
   */
  bytes?: number;
}

export interface Round {
  /** What the round does, for timelines ("reduce-scatter", "inter all-reduce", ...). */
  phase: string;
  transfers: Transfer[];
}

/**
 * A round of a compact schedule (a ring's: schedules/ring.ts, sized.ts) whose transfers are built
 * the first time something reads them, then kept: timers and per-rank plans that know the compact
 * form never do, so a 1,024-rank ring need not hold millions of transfer objects.
 */
export class LazyRound implements Round {
  private built: Transfer[] | null = null;
  constructor(
    readonly phase: string,
    private readonly build: () => Transfer[],
  ) {}
  get isBuilt(): boolean {
    return this.built !== null;
  }
  get transfers(): Transfer[] {
    return (this.built ??= this.build());
  }
  /** A copy by JSON (or a log line) shows the transfers, not the lazy state. */
  toJSON(): Round {
    return { phase: this.phase, transfers: this.transfers };
  }
}

/** How many of a schedule's lazy rounds have built their transfers (tests: timers and plans must build none). */
export function builtLazyRounds(schedule: Schedule): number {
  let built = 0;
  for (const round of schedule.rounds) if (round instanceof LazyRound && round.isBuilt) built++;
  return built;
}

export interface Schedule {
  algorithm: string;
  n: number;
  length: number;
  rounds: Round[];
  /**
   * Message semantics instead of the step model (sized schedules, timed as the per-message path
   * times them): a transfer leaves when its sender has received everything of its earlier
   * rounds, whether or not its receiver has reached the round; sends do not block the sender; a
   * sender's transfers leave one after another on the links they share (as its NIC queues them).
   */
  eager?: boolean;
  /**
   * The same schedule in a few numbers, when it has such a form: timers and per-rank plans read
   * this instead of `rounds`, whose transfers are then built only when something asks for them
   * (a 1024-rank ring has 2 million).
   */
  compact?: CompactSchedule;
}

/**
 * A ring all-reduce over ranks 0..n-1 and elements [0, length) as ringRounds builds it: chunk c is
 * [cut(0, length, n, c), cut(0, length, n, c + 1)); in reduce-scatter round s (0 <= s < n-1) rank r
 * sends chunk (r - s) mod n to r + 1 (added), in all-gather round s chunk (r + 1 - s) mod n (copied).
 */
export interface CompactRing {
  kind: 'ring';
  n: number;
  length: number;
  cut: Cut;
}
/**
 * A ring all-gather of payloads of their own sizes (schedules/sized.ts, eager): in round s
 * (0 <= s < n-1) rank r sends rank (r - s) mod n's payload, bytes[(r - s) mod n] bytes, to r + 1.
 */
export interface CompactSizedRing {
  kind: 'sized-ring';
  n: number;
  bytes: readonly number[];
}
export type CompactSchedule = CompactRing | CompactSizedRing;

/**
 * Where the i-th of `parts` pieces of [lo, hi) starts. `floor` gives whole elements (what the
 * executor sends); `exact` splits evenly into real numbers (what the closed forms assume).
 */
export type Cut = (lo: number, hi: number, parts: number, i: number) => number;
export const floorCut: Cut = (lo, hi, parts, i) => lo + Math.floor((i * (hi - lo)) / parts);
export const exactCut: Cut = (lo, hi, parts, i) => lo + (i * (hi - lo)) / parts;

/** Positive modulo. */
export function pmod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Largest power of two <= n. */
export function pow2Floor(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Rounds that run side by side (several groups at once): round k of the result is round k of each. */
export function parallel(parts: Round[][], phase?: string): Round[] {
  const len = Math.max(0, ...parts.map((p) => p.length));
  const out: Round[] = [];
  for (let k = 0; k < len; k++) {
    const transfers: Transfer[] = [];
    let name = phase ?? '';
    for (const p of parts) {
      const r = p[k];
      if (!r) continue;
      transfers.push(...r.transfers);
      if (!phase) name = r.phase;
    }
    out.push({ phase: name, transfers });
  }
  return out;
}

/** The same rounds with local ranks 0..m-1 renamed to `ranks[i]` and a phase prefix. */
export function mapRanks(rounds: Round[], ranks: readonly number[], prefix = ''): Round[] {
  return rounds.map((r) => ({
    phase: prefix + r.phase,
    transfers: r.transfers.map((t) => ({ ...t, from: ranks[t.from]!, to: ranks[t.to]! })),
  }));
}
