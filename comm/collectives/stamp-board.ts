import type { Endpoint } from '../endpoint.ts';

/** What a rank declares when it enters a sized unit (run-sized-unit.ts). */
export interface Stamp {
  entry: number;
  values: readonly number[];
}

/**
 * Every rank's entry stamp of one unit as this process knows it: one object shared by the
 * process's ranks, so what is derived from the complete stamps (the declarations' checks, the
 * schedule, who receives what) is derived once per process, not once per rank.
 */
export interface OpStamps {
  entries: number[];
  /** Per rank its declared values (undefined until its stamp is in). */
  values: (readonly number[] | undefined)[];
  /** Derived from the complete stamps by the first rank that needs it (`derive`). */
  derived: Map<string, unknown>;
}

export function newOpStamps(n: number): OpStamps {
  return { entries: new Array<number>(n).fill(Number.NaN), values: new Array(n), derived: new Map() };
}

/** What `make` derives from complete stamps, computed by the first rank of the process that asks. */
export function derive<T>(stamps: OpStamps, key: string, make: () => T): T {
  if (stamps.derived.has(key)) return stamps.derived.get(key) as T;
  const v = make();
  stamps.derived.set(key, v);
  return v;
}

interface Waiter {
  resolve(s: OpStamps): void;
  reject(err: Error): void;
  ep: Endpoint;
}

interface OpState {
  stamps: OpStamps;
  /** Local ranks whose stamp is in. */
  posted: Set<number>;
  /** Local ranks that have read the complete stamps. */
  taken: Set<number>;
  waiters: Waiter[];
}

/**
 * The entry stamps of one process's own ranks (the endpoints its worker host configured with one
 * set of collective options): they read each other's here instead of exchanging n(n-1) metadata
 * messages (a 256-rank gossip round in one process: 65,280 messages). Only stamps for ranks of
 * other processes travel. The stamps are the same data either way, so timing does not depend on
 * the packing. An op's stamps are kept until every live local rank has read them; a process
 * with one rank does not use the board at all (`shares`), and a rank that crashed or failed
 * (`leave`) is no longer waited for.
 */
export class StampBoard {
  private readonly local = new Set<number>();
  /** Members still running (a crashed or failed rank reads nothing more). */
  private readonly alive = new Set<number>();
  /** Set at the first stamp: the members are fixed from then on. */
  private used = false;
  private readonly ops = new Map<number, OpState>();

  /** A rank of this process (its endpoint's failure rejects what it waits for here). */
  join(ep: Endpoint): void {
    if (this.local.has(ep.rank)) {
      // A replacement of a crashed rank (in process) takes its place again.
      this.alive.add(ep.rank);
      return;
    }
    // A rank that joined after stamps were posted would wait for stamps its peers sent by message
    // (or the reverse): configure every rank of the process before any enters a unit.
    if (this.used) throw new Error(`stamp board: rank ${ep.rank} joined after its process's ranks entered a collective; configure every rank first`);
    this.local.add(ep.rank);
    this.alive.add(ep.rank);
    ep.onFailure((err) => {
      for (const s of this.ops.values()) {
        for (const w of s.waiters) if (w.ep === ep) w.reject(err);
        s.waiters = s.waiters.filter((w) => w.ep !== ep);
      }
      this.leave(ep.rank);
    });
  }

  /** Whether the process's ranks share stamps here (more than one rank). */
  get shares(): boolean {
    return this.local.size > 1;
  }

  isLocal(rank: number): boolean {
    return this.local.has(rank);
  }

  private remoteOf: { n: number; ranks: number[] } | null = null;
  /** The ranks of 0..n-1 of other processes, ascending (their stamps travel by message); computed once. */
  remote(n: number): readonly number[] {
    if (this.remoteOf?.n !== n) this.remoteOf = { n, ranks: Array.from({ length: n }, (_, r) => r).filter((r) => !this.local.has(r)) };
    return this.remoteOf.ranks;
  }

  /** Ops whose stamps are still kept (tests: none after a run). */
  get kept(): number {
    return this.ops.size;
  }

  /** `rank` crashed or failed: it posts and reads nothing more, so nothing waits for it. */
  leave(rank: number): void {
    if (!this.alive.delete(rank)) return;
    for (const [op, s] of this.ops) {
      this.settle(s);
      this.drop(op, s);
    }
  }

  /** Post local rank `rank`'s stamp of `op` (a unit of n ranks); returns the op's shared stamps. */
  post(op: number, rank: number, n: number, stamp: Stamp): OpStamps {
    this.used = true;
    let s = this.ops.get(op);
    if (!s) {
      s = { stamps: newOpStamps(n), posted: new Set(), taken: new Set(), waiters: [] };
      this.ops.set(op, s);
    }
    s.stamps.entries[rank] = stamp.entry;
    s.stamps.values[rank] = stamp.values;
    s.posted.add(rank);
    this.settle(s);
    return s.stamps;
  }

  /**
   * The op's shared stamps once every live local rank has posted, read by `ep` (a local rank that
   * posted). Stamps from other processes are put in by each rank as it parses them.
   */
  complete(ep: Endpoint, op: number): Promise<OpStamps> {
    if (ep.failed) return Promise.reject(ep.failed);
    const s = this.ops.get(op);
    if (!s || !s.posted.has(ep.rank)) return Promise.reject(new Error(`stamp board: rank ${ep.rank} reads op ${op} without having posted its stamp`));
    s.taken.add(ep.rank);
    if (this.allPosted(s)) {
      this.drop(op, s);
      const gone = this.missing(s);
      return gone ? Promise.reject(gone) : Promise.resolve(s.stamps);
    }
    return new Promise<OpStamps>((resolve, reject) => s.waiters.push({ resolve, reject, ep })).then(
      (x) => {
        this.drop(op, s);
        return x;
      },
      (err: unknown) => {
        this.drop(op, s);
        throw err;
      },
    );
  }

  private allPosted(s: OpState): boolean {
    for (const r of this.alive) if (!s.posted.has(r)) return false;
    return true;
  }

  private settle(s: OpState): void {
    if (s.waiters.length === 0 || !this.allPosted(s)) return;
    const list = s.waiters;
    s.waiters = [];
    const gone = this.missing(s);
    for (const w of list) {
      if (gone) w.reject(gone);
      else w.resolve(s.stamps);
    }
  }

  /** A local rank that left (crashed, failed) without posting its stamp: the unit cannot be timed without it. */
  private missing(s: OpState): Error | null {
    for (const r of this.local) if (!s.posted.has(r)) return new Error(`stamp board: rank ${r} crashed or failed before entering this collective, so its entry stamp will never come`);
    return null;
  }

  /** Forget an op every live local rank has read (the ranks keep the stamps they hold). */
  private drop(op: number, s: OpState): void {
    if (this.ops.get(op) !== s) return;
    for (const r of this.alive) if (!s.taken.has(r)) return;
    this.ops.delete(op);
  }
}

const boards = new WeakMap<object, StampBoard>();
const boardOf = new WeakMap<Endpoint, StampBoard>();

/** Put `ep` on the board of the process `owner` stands for (the worker host's collective options). */
export function joinStampBoard(ep: Endpoint, owner: object): void {
  let b = boards.get(owner);
  if (!b) {
    b = new StampBoard();
    boards.set(owner, b);
  }
  b.join(ep);
  boardOf.set(ep, b);
}

/** The board `ep` is on, if any. */
export function stampBoardOf(ep: Endpoint): StampBoard | undefined {
  return boardOf.get(ep);
}

/** `ep`'s rank crashed (fault timeline): its process's other ranks stop waiting for its stamps. */
export function leaveStampBoard(ep: Endpoint): void {
  boardOf.get(ep)?.leave(ep.rank);
}
