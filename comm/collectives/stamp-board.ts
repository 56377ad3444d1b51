import type { Endpoint } from '../endpoint.ts';

/** What a rank declares when it enters a sized unit (run-sized-unit.ts). */
export interface Stamp {
  entry: number;
  values: readonly number[];
}

interface Waiter {
  resolve(s: Stamp): void;
  reject(err: Error): void;
  ep: Endpoint;
}

/**
 * The entry stamps of one process's own ranks (the endpoints its worker host configured with one
 * set of collective options): they read each other's here instead of exchanging n(n-1) metadata
 * messages (a 256-rank gossip round in one process: 65,280 messages). Only stamps for ranks of
 * other processes travel. The stamps are the same data either way, so timing does not depend on
 * the packing. A stamp is kept until every other local rank has read it.
 */
export class StampBoard {
  private readonly local = new Set<number>();
  /** Set at the first stamp: the members are fixed from then on. */
  private used = false;
  private readonly posted = new Map<number, Map<number, { stamp: Stamp; reads: number }>>();
  private readonly waiters = new Map<string, Waiter[]>();

  /** A rank of this process (its endpoint's failure rejects what it waits for here). */
  join(ep: Endpoint): void {
    if (this.local.has(ep.rank)) return;
    // A rank that joined after stamps were posted would wait for stamps its peers sent by message
    // (or the reverse): configure every rank of the process before any enters a unit.
    if (this.used) throw new Error(`stamp board: rank ${ep.rank} joined after its process's ranks entered a collective; configure every rank first`);
    this.local.add(ep.rank);
    ep.onFailure((err) => {
      for (const [key, list] of this.waiters) {
        const keep = list.filter((w) => w.ep !== ep);
        for (const w of list) if (w.ep === ep) w.reject(err);
        if (keep.length > 0) this.waiters.set(key, keep);
        else this.waiters.delete(key);
      }
    });
  }

  isLocal(rank: number): boolean {
    return this.local.has(rank);
  }

  post(op: number, rank: number, stamp: Stamp): void {
    this.used = true;
    let byRank = this.posted.get(op);
    if (!byRank) {
      byRank = new Map();
      this.posted.set(op, byRank);
    }
    byRank.set(rank, { stamp, reads: 0 });
    const key = `${op}:${rank}`;
    const list = this.waiters.get(key);
    if (!list) return;
    this.waiters.delete(key);
    for (const w of list) w.resolve(this.read(op, rank)!);
  }

  /** Local rank `rank`'s stamp of `op`, read by `ep` (another local rank), when it is posted. */
  get(ep: Endpoint, op: number, rank: number): Promise<Stamp> {
    if (ep.failed) return Promise.reject(ep.failed);
    const s = this.read(op, rank);
    if (s) return Promise.resolve(s);
    const key = `${op}:${rank}`;
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(key) ?? [];
      list.push({ resolve, reject, ep });
      this.waiters.set(key, list);
    });
  }

  private read(op: number, rank: number): Stamp | null {
    const byRank = this.posted.get(op);
    const p = byRank?.get(rank);
    if (!byRank || !p) return null;
    if (++p.reads >= this.local.size - 1) {
      byRank.delete(rank);
      if (byRank.size === 0) this.posted.delete(op);
    }
    return p.stamp;
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
