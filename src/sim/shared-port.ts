/**
 * One link shared max-min fairly by transfers that its owner learns of one by one (the star's
 * server ingress and egress under the asynchronous masters: pushes as they come in, replies as
 * the master sends them). Every transfer crosses only this link, so max-min is an equal share:
 * k active transfers each get B(t)/k, recomputed whenever one starts or ends and at every
 * bandwidth change (trace breakpoints, link faults). Adding a transfer never makes another end
 * earlier, so `peek` is a lower bound on every known transfer's final end.
 *
 * The owner adds transfers (any wall-clock order) and asks `peek` for the next one to complete
 * among those it knows; that answer is final once no unknown transfer can start before its end
 * (the caller's conservative rule), and `commit` then makes it so: the port advances to that
 * end, the transfer leaves. A transfer's `from` is the worker at the far end (the sender of a
 * push, the receiver of a reply); ties between completions at one virtual time are broken by
 * (from, sequence number). Pure: no clocks, no I/O.
 */
export interface PortLink {
  /** Bandwidth (bits/s) in force at virtual time t. */
  bandwidthAt(t: number): number;
  /** The first time > t at which the bandwidth (or a partition) may change (Infinity if never). */
  nextChange(t: number): number;
  /** Latency (s) for a transfer whose last bit leaves at t. */
  latencyAt(t: number): number;
  /** True while a partition cuts `from` off the port's receiver: its transfer stalls (rate 0). */
  blocked?(from: number, t: number): boolean;
}

interface PortFlow {
  from: number;
  seq: number;
  start: number;
  /** Bits left (as of the port's time for active flows). */
  left: number;
}

export interface PortCompletion {
  from: number;
  seq: number;
  /** When its last bit leaves the port. */
  end: number;
  /** end + the link's latency then. */
  arrival: number;
}

export class SharedPortQueue {
  private now = 0;
  /** Started by `now`, bits left as of `now`. */
  private active: PortFlow[] = [];
  /** Known, starting after `now`; sorted by (start, sender, seq). */
  private future: PortFlow[] = [];

  constructor(private readonly link: PortLink) {}

  /** A transfer of `bytes` from `from` (its `seq`-th) whose first bit is ready at `start`. */
  add(from: number, seq: number, bytes: number, start: number): void {
    // A transfer cannot start in the port's committed past (the caller's rule keeps it out).
    const f: PortFlow = { from, seq, start: Math.max(start, this.now), left: bytes * 8 };
    let i = this.future.length;
    while (i > 0 && later(this.future[i - 1]!, f)) i--;
    this.future.splice(i, 0, f);
  }

  /** The next completion among the known transfers (null when none is known), without committing. */
  peek(): PortCompletion | null {
    return this.run(false);
  }

  /** Commit `peek`'s completion: the port advances to its end and it leaves. */
  commit(): PortCompletion | null {
    return this.run(true);
  }

  private run(commit: boolean): PortCompletion | null {
    let now = this.now;
    const active = commit ? this.active : this.active.map((f) => ({ ...f }));
    let next = 0;
    const future = this.future;
    for (;;) {
      // Transfers starting now join.
      while (next < future.length && future[next]!.start <= now) {
        const f = future[next++]!;
        active.push(commit ? f : { ...f });
      }
      if (active.length === 0) {
        if (next >= future.length) return null;
        now = future[next]!.start;
        continue;
      }
      const blocked = this.link.blocked;
      const moving = blocked ? active.filter((f) => !blocked(f.from, now)) : active;
      const until = Math.min(next < future.length ? future[next]!.start : Infinity, this.link.nextChange(now));
      if (moving.length === 0) {
        // Every transfer is cut off by a partition: nothing moves until something changes.
        if (until === Infinity) return null;
        now = until;
        continue;
      }
      const rate = this.link.bandwidthAt(now) / moving.length;
      // The first to finish at this rate: least bits left, ties by (sender, seq).
      let first = moving[0]!;
      for (const f of moving) if (f.left < first.left || (f.left === first.left && tieLess(f, first))) first = f;
      const done = now + first.left / rate;
      if (done <= until) {
        const end = done;
        // Equal shares: every moving transfer sent exactly `first.left` bits meanwhile (equal
        // remainders reach 0 together and complete next, at the same time).
        const sent = first.left;
        for (const f of moving) f.left = Math.max(0, f.left - sent);
        const out: PortCompletion = { from: first.from, seq: first.seq, end, arrival: end + this.link.latencyAt(end) };
        if (commit) {
          this.now = end;
          this.active = active.filter((f) => f !== first);
          this.future = future.slice(next);
        }
        return out;
      }
      const sent = rate * (until - now);
      for (const f of moving) f.left = Math.max(0, f.left - sent);
      now = until;
    }
  }
}

function later(a: PortFlow, b: PortFlow): boolean {
  return a.start > b.start || (a.start === b.start && tieLess(b, a));
}

function tieLess(a: PortFlow, b: PortFlow): boolean {
  return a.from < b.from || (a.from === b.from && a.seq < b.seq);
}
