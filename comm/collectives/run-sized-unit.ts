import type { Endpoint } from '../endpoint.ts';
import type { Message } from '../message.ts';
import type { UnitTiming } from './run-schedule.ts';
import type { Schedule } from './schedules/schedule.ts';
import { declaredRoundSized } from './schedules/sized.ts';
import { derive, newOpStamps, stampBoardOf, type OpStamps, type StampBoard } from './stamp-board.ts';

/**
 * Message-timed collectives timed as a unit (variable-size all-gathers, gossip rounds, 1-bit
 * Adam's all-to-all) under max-min sharing on cut-through topologies: each rank's entry stamp
 * (metadata, not counted) carries its entry time and the sizes it will send, so every rank
 * builds the same sized schedule (schedules/sized.ts) and times it with the same pure flow
 * simulation; the bytes then move untimed and each rank leaves at its finish time, as
 * runScheduleAsUnit does for the fixed-size all-reduces. The per-message code itself moves the
 * bytes, through a `Mover`: timed (`send`/`recv`) or untimed (`sendUntimed`/`recvRaw`).
 */

/** The per-rank finish times of a schedule from every rank's entry time (CollectiveOptions.timeAsUnit). */
export type UnitTimer = (schedule: Schedule, entries: readonly number[], op: number) => UnitTiming;
/**
 * Register a schedule with its entries now and decide its timing when first needed, at the
 * rank's program point (collectives started), which must be the same on every rank
 * (CollectiveOptions.deferAsUnit).
 */
export type DeferTimer = (schedule: Schedule, entries: readonly number[], op: number) => (point: number) => UnitTiming;

/** What the flow simulation also tells of a sized (eager) schedule: [send, arrival] of each of a rank's transfers, in its sending order. */
interface SizedTiming extends UnitTiming {
  sent?: (rank: number) => [number, number][];
}

/** The endpoint's records of the messages it sends from now on (timeline.jsonl `transfers`; none when it does not record), read when called. */
function recordsFrom(ep: Endpoint): () => [number, number, number, number][] {
  const mark = ep.transfers?.length ?? 0;
  const list = ep.transfers;
  return () => (list && ep.transfers === list ? list.slice(mark) : []);
}

/**
 * Take `records` (the tail of the endpoint's list) out until the unit is decided: a deferred
 * unit's messages are reported by the step that decides it (the one that needs its result, as a
 * deferred all-reduce's interval is), with their times, never as messages without an arrival.
 */
function holdRecords(ep: Endpoint, records: readonly [number, number, number, number][]): () => void {
  const list = ep.transfers;
  if (!list || records.length === 0 || list[list.length - records.length] !== records[0]) return () => {};
  list.splice(list.length - records.length, records.length);
  return () => ep.transfers?.push(...records);
}

/**
 * Give the untimed messages' records the send and arrival times the unit gave them (what the
 * per-message path records), so trace.json and report.html draw them in flight. The records are
 * the endpoint's own tuples, filled in place before the step that reports them (a deferred
 * unit's are held back until it is decided: holdRecords).
 */
function fillRecords(ep: Endpoint, records: [number, number, number, number][], timing: UnitTiming, what: string): void {
  if (records.length === 0) return;
  // Every timing of an eager schedule has its messages' times (flow simulation, clock arithmetic,
  // joint decision, fifo replay), in the rank's sending order: none, or a different count, means
  // the schedule does not describe what the code sent (a bug, not bad input).
  const sent = (timing as SizedTiming).sent?.(ep.rank);
  if (!sent || sent.length !== records.length) throw new Error(`${what}: rank ${ep.rank} sent ${records.length} messages, its unit's timing has ${sent?.length ?? 'no'} message times`);
  records.forEach((rec, i) => {
    rec[2] = sent[i]![0];
    rec[3] = sent[i]![1];
  });
}

/** How a collective's code hands its messages to the endpoint. */
export interface Mover {
  send(to: number, op: number, step: number, payload: Uint8Array): void;
  recv(from: number, op: number, step: number): Promise<Message>;
}

/** Each message timed by the link model (the per-message path). */
export function timedMover(ep: Endpoint): Mover {
  return { send: (to, op, step, p) => void ep.send(to, op, step, p), recv: (from, op, step) => ep.recv(from, op, step) };
}

/** Bytes counted but not timed: the unit's timing decides the clock. */
export function untimedMover(ep: Endpoint): Mover {
  return { send: (to, op, step, p) => ep.sendUntimed(to, op, step, p), recv: (from, op, step) => ep.recvRaw(from, op, step) };
}

/** Wire step of every unit's entry stamps (sized units and runScheduleAsUnit's all-reduces; after any step a collective uses). */
const STAMP_STEP = 0x7ffffff1;

/** A rank's entry into a sized unit: when, and what it declared. */
export interface Entry {
  op: number;
  entry: number;
  values: readonly number[];
  /** The endpoint's records of the messages sent with the stamp (sendDeclared), to be given their times. */
  records?: [number, number, number, number][];
}

/** The process's board when its ranks share stamps there (more than one rank in the process). */
function sharedBoard(ep: Endpoint): StampBoard | undefined {
  const b = stampBoardOf(ep);
  return b?.shares ? b : undefined;
}

/** Every rank but `ep`'s (a process holding one rank: all stamps travel by message). */
function* othersOf(ep: Endpoint): Generator<number> {
  for (let r = 0; r < ep.size; r++) if (r !== ep.rank) yield r;
}

/**
 * Tell every other rank this rank's entry time and declared values (f64 time, u32 count, f64
 * values): ranks of this process through its stamp board (stamp-board.ts), the others by message.
 */
export function sendStamp(ep: Endpoint, op: number, values: readonly number[]): Entry {
  const board = sharedBoard(ep);
  board?.post(op, ep.rank, ep.size, { entry: ep.now, values });
  let stamp: Uint8Array | null = null;
  for (const r of board ? board.remote(ep.size) : othersOf(ep)) {
    if (!stamp) {
      stamp = new Uint8Array(12 + 8 * values.length);
      const dv = new DataView(stamp.buffer);
      dv.setFloat64(0, ep.now, true);
      dv.setUint32(8, values.length, true);
      values.forEach((v, i) => dv.setFloat64(12 + 8 * i, v, true));
    }
    ep.sendMeta(r, op, STAMP_STEP, stamp);
  }
  return { op, entry: ep.now, values };
}

/**
 * Every rank's entry time and declared values (this rank's from `own`), shared by the process's
 * ranks (stamp-board.ts). Stamps from other processes are parsed as hostile: at most `maxValues`
 * values (checked before anything is allocated for them), whole numbers, a finite time; and a
 * rank must send every rank of this process the same stamp.
 */
export async function receiveStamps(ep: Endpoint, own: Entry, what: string, maxValues: number): Promise<OpStamps> {
  const n = ep.size;
  const board = sharedBoard(ep);
  let stamps: OpStamps;
  if (!board) {
    stamps = newOpStamps(n);
    stamps.entries[ep.rank] = own.entry;
    stamps.values[ep.rank] = own.values;
  } else stamps = board.post(own.op, ep.rank, n, own);
  for (const r of board ? board.remote(n) : othersOf(ep)) {
    const p = (await ep.recvMeta(r, own.op, STAMP_STEP)).payload;
    if (p.byteLength < 12) throw new Error(`${what}: entry stamp from ${r} has ${p.byteLength} bytes, expected at least 12`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const t = dv.getFloat64(0, true);
    if (!Number.isFinite(t) || t < 0) throw new Error(`${what}: entry time from ${r} is ${t}, expected a finite virtual time >= 0`);
    const count = dv.getUint32(8, true);
    if (count > maxValues) throw new Error(`${what}: entry stamp from ${r} declares ${count} values, expected at most ${maxValues}`);
    if (p.byteLength !== 12 + 8 * count) throw new Error(`${what}: entry stamp from ${r} has ${p.byteLength} bytes for ${count} values, expected ${12 + 8 * count}`);
    const v = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      v[i] = dv.getFloat64(12 + 8 * i, true);
      if (!Number.isSafeInteger(v[i])) throw new Error(`${what}: entry stamp from ${r} declares ${v[i]}, expected whole numbers`);
    }
    const had = stamps.values[r];
    if (!had) {
      stamps.entries[r] = t;
      stamps.values[r] = v;
    } else if (stamps.entries[r] !== t || had.length !== count || had.some((x, i) => x !== v[i])) {
      // Different stamps to ranks of one process would give them different schedules.
      throw new Error(`${what}: rank ${r} sent rank ${ep.rank} an entry stamp that differs from the one it sent another rank of its process`);
    }
  }
  return board ? board.complete(ep, own.op) : stamps;
}

/** Leave the unit at this rank's finish time (never earlier than the clock already is). */
export function leaveAt(ep: Endpoint, timing: UnitTiming): void {
  const finish = timing.finish[ep.rank]!;
  if (finish > ep.now) ep.now = finish;
}

/** Sizes of payloads a rank received must be those their senders declared. */
export function checkDeclared(what: string, from: number, got: number, declared: number): void {
  if (got !== declared) throw new Error(`${what}: ${got} bytes from ${from}, its entry stamp declared ${declared}`);
}

/**
 * A collective timed as a unit whose ranks each declare one payload size (the all-gathers):
 * stamps, the schedule built from every rank's size (once per process), its timing, then `move`
 * (the collective's own code with the untimed mover), then the finish time. Inside a background
 * exchange (`ep.background`, Streaming DiLoCo's fragments) with `defer`, the timing is decided
 * when the rank first needs it, as runScheduleAsUnit does (src/sim/unit-scheduler.ts).
 */
export async function runSizedUnit<T>(ep: Endpoint, op: number, bytes: number, what: string, build: (sizes: readonly number[]) => Schedule, time: UnitTimer, move: (sizes: readonly number[], schedule: Schedule) => Promise<T>, defer?: DeferTimer): Promise<T> {
  const own = sendStamp(ep, op, [bytes]);
  const stamps = await receiveStamps(ep, own, what, 1);
  const { sizes, schedule } = derive(stamps, 'sized', () => {
    const sizes = stamps.values.map((v, r) => {
      if (!v || v.length !== 1 || v[0]! < 0) throw new Error(`${what}: entry stamp from ${r} declares ${v?.length ?? 0} sizes (${v?.join(', ') ?? ''}), expected one size >= 0`);
      return v[0]!;
    });
    return { sizes, schedule: build(sizes) };
  });
  const later = defer && ep.background > 0 ? defer(schedule, stamps.entries, op) : null;
  const timing = later ? null : time(schedule, stamps.entries, op);
  const records = recordsFrom(ep);
  const out = await move(sizes, schedule);
  const sent = records();
  if (later) {
    const release = holdRecords(ep, sent);
    ep.deferClock(() => {
      const t = later(ep.opsStarted());
      fillRecords(ep, sent, t, what);
      release();
      return t.finish[ep.rank]!;
    });
  } else {
    fillRecords(ep, sent, timing!, what);
    leaveAt(ep, timing!);
  }
  return out;
}

/**
 * The sending half of a one-round unit of declared messages (a gossip round, an all-to-all): the
 * stamp declares (to, bytes) of each message, in order, and the payloads leave untimed.
 */
export function sendDeclared(ep: Endpoint, op: number, sends: readonly { to: number; payload: Uint8Array }[], step = 0): Entry {
  const own = sendStamp(ep, op, sends.flatMap((m) => [m.to, m.payload.byteLength]));
  const records = recordsFrom(ep);
  for (const m of sends) ep.sendUntimed(m.to, op, step, m.payload);
  return { ...own, records: records() };
}

/**
 * What a declared round allows each rank to declare: every rank checks every rank's declarations
 * against it before anything is timed (a message to a rank that does not expect it would join
 * that rank's clock and take a share of the links).
 */
export interface DeclaredPattern {
  /** The most messages a rank may declare (its stamp's values are checked against twice this before they are read). */
  maxMessages: number;
  /** Whether `from` may declare a message to `to` (at most one each). */
  allows(from: number, to: number): boolean;
  /** Who `from` may send to, for errors ("one of its neighbours (1, 2, 6)"). */
  receivers(from: number): string;
  /** When each rank's number of messages is fixed: the count for a rank and what it means. */
  exactly?: { count: (from: number) => number; meaning: string };
}

/** The gossip round's pattern: each rank one message to each rank it exchanges with (`graph[rank]`), and to no other. */
export function neighbourPattern(graph: readonly (readonly number[])[]): DeclaredPattern {
  let most = 0;
  for (const l of graph) if (l.length > most) most = l.length;
  const sets = new Map<number, Set<number>>();
  return {
    maxMessages: most,
    allows: (from, to) => {
      let s = sets.get(from);
      if (!s) sets.set(from, (s = new Set(graph[from] ?? [])));
      return s.has(to);
    },
    receivers: (from) => `one of its neighbours (${(graph[from] ?? []).join(', ')})`,
    exactly: { count: (from) => graph[from]?.length ?? 0, meaning: 'one to each of its neighbours' },
  };
}

/** An all-to-all's pattern: each of n ranks one message to every other. */
export function allToAllPattern(n: number): DeclaredPattern {
  return { maxMessages: n - 1, allows: (from, to) => from !== to, receivers: () => `another rank of 0..${n - 1}`, exactly: { count: () => n - 1, meaning: 'one to each other rank' } };
}

/** The checked declarations of a round: its schedule and, per receiver, who declared how many bytes to it. */
interface CheckedRound {
  schedule: Schedule;
  inbound: Map<number, number>[];
}

/** Check every rank's (to, bytes) list against the pattern; one error names the first offender. */
function checkRound(what: string, values: OpStamps['values'], pattern: DeclaredPattern): CheckedRound {
  const n = values.length;
  const inbound = Array.from({ length: n }, () => new Map<number, number>());
  const lists = values.map((list, r) => {
    if (!list || list.length % 2 !== 0 || list.length > 2 * pattern.maxMessages) throw new Error(`${what}: rank ${r} declared ${list?.length ?? 0} values, expected (to, bytes) pairs for at most ${pattern.maxMessages} messages`);
    const m = list.length / 2;
    if (pattern.exactly && m !== pattern.exactly.count(r)) throw new Error(`${what}: rank ${r} declared ${m} messages, expected ${pattern.exactly.count(r)} (${pattern.exactly.meaning})`);
    for (let i = 0; i < list.length; i += 2) {
      const to = list[i]!;
      const b = list[i + 1]!;
      if (!Number.isInteger(to) || to < 0 || to >= n || to === r || !pattern.allows(r, to)) throw new Error(`${what}: rank ${r} declared a message to ${to}, which is not ${pattern.receivers(r)}`);
      if (!Number.isSafeInteger(b) || b < 0) throw new Error(`${what}: rank ${r} declared a message of ${b} bytes, expected a whole number >= 0`);
      const into = inbound[to]!;
      if (into.has(r)) throw new Error(`${what}: rank ${r} declared ${list.filter((x, k) => k % 2 === 0 && x === to).length} messages to ${to}, expected at most one`);
      into.set(r, b);
    }
    return list;
  });
  return { schedule: declaredRoundSized(what, what, lists), inbound };
}

/**
 * The receiving half: every rank's declarations, checked against `pattern` (once per process),
 * make one round (schedules/sized.ts declaredRoundSized), timed as a unit; the ranks that
 * declared a message to this one must be exactly `from`, each once, and each payload the size it
 * declared; they are returned in the order of `from`; the clock then moves to this rank's finish
 * (its last arrival).
 */
export async function receiveDeclared(ep: Endpoint, own: Entry, from: readonly number[], time: UnitTimer, what: string, pattern: DeclaredPattern, step = 0): Promise<Uint8Array[]> {
  const stamps = await receiveStamps(ep, own, what, 2 * pattern.maxMessages);
  const { schedule, inbound } = derive(stamps, 'declared', () => checkRound(what, stamps.values, pattern));
  const mine = inbound[ep.rank]!;
  for (const j of from) if (!mine.has(j)) throw new Error(`${what}: rank ${ep.rank} expects a message from ${j}, which declared none to it`);
  if (mine.size !== from.length) {
    const extra = [...mine.keys()].find((j) => !from.includes(j))!;
    throw new Error(`${what}: rank ${extra} declared a message to ${ep.rank}, which expects none from it`);
  }
  const timing = time(schedule, stamps.entries, own.op);
  if (own.records) fillRecords(ep, own.records, timing, what);
  const out: Uint8Array[] = [];
  for (const j of from) {
    const p = (await ep.recvRaw(j, own.op, step)).payload;
    checkDeclared(what, j, p.byteLength, mine.get(j)!);
    out.push(p);
  }
  leaveAt(ep, timing);
  return out;
}
