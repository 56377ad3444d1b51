import type { LinkTiming, Message, MessageSink } from './message.ts';

/** Bytes of payload sent, per destination, as really handed to the transport. */
export interface TrafficStats {
  bytesSent: number;
  messagesSent: number;
  /** Payload bytes per destination rank (the link from this endpoint to it). */
  bytesTo: Map<number, number>;
  /**
   * Payload bytes received per source rank, counted when a receive returns the message (not on
   * wall-clock delivery), so the count at any point of the worker's program is deterministic.
   */
  bytesFrom: Map<number, number>;
}

/**
 * The wire op of the n-th call in a namespace. The default namespace uses the lower half of the
 * u32 space; every other namespace gets its own 2^27-wide block in the upper half, chosen by a
 * hash of its name (stable in every process, unlike an order of first use). Block 0 of the upper
 * half is left for fixed ops (comm/collectives/push-pull.ts).
 */
export function namespacedOp(namespace: string, n: number): number {
  if (namespace === 'collective') return n;
  let h = 5381;
  for (let i = 0; i < namespace.length; i++) h = (Math.imul(h, 33) + namespace.charCodeAt(i)) >>> 0;
  const block = (h % 15) + 1;
  return (0x80000000 | (block << 27) | (n & 0x7ffffff)) >>> 0;
}

interface Waiter {
  resolve(msg: Message): void;
  reject(err: Error): void;
}

/**
 * One logical worker's (or the parameter server's) view of the network: a virtual clock, a
 * mailbox keyed by (from, op, step), and traffic counters. Collectives are written against it.
 */
export class Endpoint {
  private clock = 0;
  /**
   * A collective timed as a unit inside a background exchange whose finish time is not decided
   * yet (`deferClock`): the clock is the later of `clock` and what this returns. Reading or
   * setting `now` decides it, so code that goes on using the clock after such a collective sees
   * the right time; `sendInBackground` takes it undecided instead (`takeDeferredClock`).
   */
  private deferred: (() => number) | null = null;
  /** Depth of `sendInBackground` exchanges running on this endpoint (collectives may defer their timing). */
  background = 0;

  /** Virtual clock in seconds. Advanced by compute (by the caller) and by message arrivals. */
  get now(): number {
    if (this.deferred !== null) this.settleClock();
    return this.clock;
  }
  set now(t: number) {
    if (this.deferred !== null) this.settleClock();
    this.clock = t;
  }

  /**
   * The clock will be at least `finish()` (decided later): a unit-timed collective in a background
   * exchange. An earlier deferred finish is decided first (a second collective enters after it).
   */
  deferClock(finish: () => number): void {
    if (this.deferred !== null) this.settleClock();
    this.deferred = finish;
  }

  /** The undecided finish of the last collective deferred here (or null); the clock no longer waits for it. */
  takeDeferredClock(): (() => number) | null {
    const d = this.deferred;
    this.deferred = null;
    return d;
  }

  private settleClock(): void {
    const d = this.deferred!;
    this.deferred = null;
    const t = d();
    if (t > this.clock) this.clock = t;
  }
  readonly stats: TrafficStats = { bytesSent: 0, messagesSent: 0, bytesTo: new Map(), bytesFrom: new Map() };
  private readonly mailbox = new Map<string, Message[]>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly opCounters = new Map<string, number>();
  private failure: Error | null = null;
  /**
   * Payload messages sent since last drained, when recording (null: not recording; the worker
   * host records for runs of at most 64 workers): [to, bytes, virtual send, virtual arrival],
   * arrival NaN when the receiver times a shared link or the exchange is timed as a unit.
   */
  transfers: [number, number, number, number][] | null = null;

  constructor(
    readonly rank: number,
    /** Number of worker ranks (a parameter server, if any, has rank === size). */
    readonly size: number,
    private readonly sink: MessageSink,
    private readonly timing: LinkTiming,
  ) {}

  /** Next collective-call number in a namespace; every rank calls collectives in the same order. */
  nextOp(namespace = 'collective'): number {
    const n = (this.opCounters.get(namespace) ?? 0) + 1;
    this.opCounters.set(namespace, n);
    return namespacedOp(namespace, n);
  }

  /** How many collectives this endpoint has started in a namespace: its position in the program that every rank runs alike. */
  opsStarted(namespace = 'collective'): number {
    return this.opCounters.get(namespace) ?? 0;
  }

  /** Set a namespace's call count (a replacement worker resumes a sequence of rounds). */
  setOpCount(namespace: string, n: number): void {
    this.opCounters.set(namespace, n);
  }

  /**
   * Send at the current virtual time. The payload must not be modified afterwards. Returns the
   * virtual arrival (NaN when the receiver times a shared link).
   */
  send(to: number, op: number, step: number, payload: Uint8Array): number {
    if (this.failure) throw this.failure;
    const bytes = payload.byteLength;
    const arrival = this.timing.isShared(this.rank, to) ? Number.NaN : this.timing.transmit(this.rank, to, bytes, this.now);
    this.handOver(to, op, step, payload, this.now, arrival);
    return arrival;
  }

  /**
   * Send several messages at the current virtual time that leave together (a master's replies
   * to a round): under max-min sharing the network model times them as one group of flows
   * sharing the links (the server's egress port), otherwise each is sent as by `send`, in order.
   */
  sendTogether(sends: readonly { to: number; op: number; step: number; payload: Uint8Array }[]): void {
    if (this.failure) throw this.failure;
    const timed = sends.length > 1 && sends.every((m) => !this.timing.isShared(this.rank, m.to));
    const arrivals = timed ? (this.timing.timeTogether?.(sends.map((m) => ({ from: this.rank, to: m.to, bytes: m.payload.byteLength, sendTime: this.now }))) ?? null) : null;
    if (!arrivals) {
      for (const m of sends) this.send(m.to, m.op, m.step, m.payload);
      return;
    }
    sends.forEach((m, i) => this.handOver(m.to, m.op, m.step, m.payload, this.now, arrivals[i]!));
  }

  /**
   * Send a message whose virtual send and arrival times the sender already decided (an
   * asynchronous master's reply, timed on the server's egress port and released once no later
   * reply can change its arrival): counted and recorded like any send, not timed again.
   */
  sendDecided(to: number, op: number, step: number, payload: Uint8Array, sendTime: number, arrival: number): void {
    if (this.failure) throw this.failure;
    this.handOver(to, op, step, payload, sendTime, arrival);
  }

  /** Count, record and hand over a payload whose times are known (NaN arrival: the receiver or a unit times it). */
  private handOver(to: number, op: number, step: number, payload: Uint8Array, sendTime: number, arrival: number): void {
    const bytes = payload.byteLength;
    this.stats.bytesSent += bytes;
    this.stats.messagesSent += 1;
    this.stats.bytesTo.set(to, (this.stats.bytesTo.get(to) ?? 0) + bytes);
    this.transfers?.push([to, bytes, sendTime, arrival]);
    this.sink.route({ from: this.rank, to, op, step, sendTime, arrival, payload });
  }

  /**
   * Send payload bytes (counted like any send) without timing them on the links: the caller
   * times the whole exchange itself (a collective timed as a unit by the flow simulator).
   */
  sendUntimed(to: number, op: number, step: number, payload: Uint8Array): void {
    if (this.failure) throw this.failure;
    this.handOver(to, op, step, payload, this.now, Number.NaN);
  }

  /**
   * Send coordination metadata (entry times of a collective): not payload, so neither counted
   * as communication nor timed.
   */
  sendMeta(to: number, op: number, step: number, payload: Uint8Array): void {
    if (this.failure) throw this.failure;
    this.sink.route({ from: this.rank, to, op, step, sendTime: this.now, arrival: Number.NaN, payload });
  }

  /** Receive and advance the clock to the arrival time (if the sender timed it). */
  async recv(from: number, op: number, step: number): Promise<Message> {
    const msg = await this.recvRaw(from, op, step);
    if (!Number.isNaN(msg.arrival) && msg.arrival > this.now) this.now = msg.arrival;
    return msg;
  }

  /** Receive without touching the clock (the caller times a shared link itself). */
  recvRaw(from: number, op: number, step: number): Promise<Message> {
    return this.take(from, op, step, true);
  }

  /** Receive coordination metadata (sendMeta): neither timed nor counted, whichever process sent it. */
  recvMeta(from: number, op: number, step: number): Promise<Message> {
    return this.take(from, op, step, false);
  }

  private take(from: number, op: number, step: number, count: boolean): Promise<Message> {
    if (this.failure) return Promise.reject(this.failure);
    const key = `${from}:${op}:${step}`;
    const queue = this.mailbox.get(key);
    if (queue && queue.length > 0) {
      const msg = queue.shift()!;
      if (queue.length === 0) this.mailbox.delete(key);
      if (count) this.countReceived(msg);
      return Promise.resolve(msg);
    }
    if (this.waiters.has(key)) return Promise.reject(new Error(`two receivers waiting for ${key} on rank ${this.rank}`));
    return new Promise((resolve, reject) =>
      this.waiters.set(key, {
        resolve: (m) => {
          if (count) this.countReceived(m);
          resolve(m);
        },
        reject,
      }),
    );
  }

  private countReceived(msg: Message): void {
    this.stats.bytesFrom.set(msg.from, (this.stats.bytesFrom.get(msg.from) ?? 0) + msg.payload.byteLength);
  }

  /** Called by the router when a message for this endpoint arrives. */
  deliver(msg: Message): void {
    const key = `${msg.from}:${msg.op}:${msg.step}`;
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter.resolve(msg);
      return;
    }
    const queue = this.mailbox.get(key);
    if (queue) queue.push(msg);
    else this.mailbox.set(key, [msg]);
  }

  /** Fail every pending and future receive (a peer died, the run is being torn down). */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    for (const l of this.failureListeners) l(err);
    this.failureListeners.length = 0;
  }

  private readonly failureListeners: ((err: Error) => void)[] = [];

  /** The error the endpoint failed with, or null. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Call `listener` when the endpoint fails (a batched collective waiting for peers gives up). */
  onFailure(listener: (err: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /**
   * Count `messages` sends of `bytes` payload bytes in total to `to` without routing them: a
   * batched in-process collective that moved the data itself (the counters are what `send`
   * would have recorded).
   */
  countSends(to: number, bytes: number, messages: number): void {
    if (this.failure) throw this.failure;
    this.stats.bytesSent += bytes;
    this.stats.messagesSent += messages;
    this.stats.bytesTo.set(to, (this.stats.bytesTo.get(to) ?? 0) + bytes);
  }

  /** Record a message a batched in-process collective moved itself (as `send` would have). */
  recordTransfer(to: number, bytes: number, sendTime: number, arrival: number): void {
    this.transfers?.push([to, bytes, sendTime, arrival]);
  }

  /** The recorded transfers since the last call (empty when not recording). */
  drainTransfers(): [number, number, number, number][] {
    const t = this.transfers;
    if (!t || t.length === 0) return [];
    return t.splice(0, t.length);
  }

  /** Traffic timing the endpoint uses; exposed for collectives that order shared links. */
  get linkTiming(): LinkTiming {
    return this.timing;
  }
}
