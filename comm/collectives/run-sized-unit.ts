import type { Endpoint } from '../endpoint.ts';
import type { Message } from '../message.ts';
import type { UnitTiming } from './run-schedule.ts';
import type { Schedule } from './schedules/schedule.ts';
import { declaredRoundSized } from './schedules/sized.ts';
import { stampBoardOf } from './stamp-board.ts';

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
 * Give the untimed messages' records the send and arrival times the unit gave them (what the
 * per-message path records), so trace.json and report.html draw them in flight; left as they
 * are (no arrival) if the timing has none. The records are the endpoint's own tuples, filled in
 * place before the step that sent them is reported.
 */
function fillRecords(ep: Endpoint, records: [number, number, number, number][], timing: UnitTiming): void {
  const sent = (timing as SizedTiming).sent?.(ep.rank);
  if (!sent || sent.length !== records.length) return;
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

/** Wire step of a sized unit's entry stamps (after any step a collective uses; runScheduleAsUnit's is 0x7ffffff0). */
const STAMP_STEP = 0x7ffffff1;
/** At most this many declared values per stamp (two per message: a rank sends at most n - 1 in a round). */
const MAX_VALUES = 2 * (1 << 21);

/** A rank's entry into a sized unit: when, and what it declared. */
export interface Entry {
  op: number;
  entry: number;
  values: readonly number[];
  /** The endpoint's records of the messages sent with the stamp (sendDeclared), to be given their times. */
  records?: [number, number, number, number][];
}

/**
 * Tell every other rank this rank's entry time and declared values (f64 time, u32 count, f64
 * values): ranks of this process through its stamp board (stamp-board.ts), the others by message.
 */
export function sendStamp(ep: Endpoint, op: number, values: readonly number[]): Entry {
  const board = stampBoardOf(ep);
  board?.post(op, ep.rank, { entry: ep.now, values });
  const stamp = new Uint8Array(12 + 8 * values.length);
  const dv = new DataView(stamp.buffer);
  dv.setFloat64(0, ep.now, true);
  dv.setUint32(8, values.length, true);
  values.forEach((v, i) => dv.setFloat64(12 + 8 * i, v, true));
  for (let r = 0; r < ep.size; r++) if (r !== ep.rank && !board?.isLocal(r)) ep.sendMeta(r, op, STAMP_STEP, stamp);
  return { op, entry: ep.now, values };
}

/** Every rank's entry time and declared values (this rank's from `own`); stamps are parsed as hostile. */
export async function receiveStamps(ep: Endpoint, own: Entry, what: string): Promise<{ entries: number[]; values: number[][] }> {
  const n = ep.size;
  const entries = new Array<number>(n);
  const values = new Array<number[]>(n);
  entries[ep.rank] = own.entry;
  values[ep.rank] = [...own.values];
  const board = stampBoardOf(ep);
  for (let r = 0; r < n; r++) {
    if (r === ep.rank) continue;
    if (board?.isLocal(r)) {
      const s = await board.get(ep, own.op, r);
      entries[r] = s.entry;
      values[r] = [...s.values];
      continue;
    }
    const p = (await ep.recvRaw(r, own.op, STAMP_STEP)).payload;
    if (p.byteLength < 12) throw new Error(`${what}: entry stamp from ${r} has ${p.byteLength} bytes, expected at least 12`);
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const t = dv.getFloat64(0, true);
    if (!Number.isFinite(t) || t < 0) throw new Error(`${what}: entry time from ${r} is ${t}, expected a finite virtual time >= 0`);
    const count = dv.getUint32(8, true);
    if (count > MAX_VALUES || p.byteLength !== 12 + 8 * count) throw new Error(`${what}: entry stamp from ${r} has ${p.byteLength} bytes for ${count} values, expected ${12 + 8 * Math.min(count, MAX_VALUES)}`);
    const v = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      v[i] = dv.getFloat64(12 + 8 * i, true);
      if (!Number.isSafeInteger(v[i])) throw new Error(`${what}: entry stamp from ${r} declares ${v[i]}, expected whole numbers`);
    }
    entries[r] = t;
    values[r] = v;
  }
  return { entries, values };
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
 * stamps, the schedule built from every rank's size, its timing, then `move` (the collective's
 * own code with the untimed mover), then the finish time. Inside a background exchange
 * (`ep.background`, Streaming DiLoCo's fragments) with `defer`, the timing is decided when the
 * rank first needs it, as runScheduleAsUnit does (src/sim/unit-scheduler.ts).
 */
export async function runSizedUnit<T>(ep: Endpoint, op: number, bytes: number, what: string, build: (sizes: readonly number[]) => Schedule, time: UnitTimer, move: (sizes: readonly number[]) => Promise<T>, defer?: DeferTimer): Promise<T> {
  const own = sendStamp(ep, op, [bytes]);
  const { entries, values } = await receiveStamps(ep, own, what);
  const sizes = values.map((v, r) => {
    if (v.length !== 1 || v[0]! < 0) throw new Error(`${what}: entry stamp from ${r} declares ${v.length} sizes (${v.join(', ')}), expected one size >= 0`);
    return v[0]!;
  });
  const schedule = build(sizes);
  const later = defer && ep.background > 0 ? defer(schedule, entries, op) : null;
  const timing = later ? null : time(schedule, entries, op);
  const records = recordsFrom(ep);
  const out = await move(sizes);
  const sent = records();
  if (later) {
    ep.deferClock(() => {
      const t = later(ep.opsStarted());
      fillRecords(ep, sent, t);
      return t.finish[ep.rank]!;
    });
  } else {
    fillRecords(ep, sent, timing!);
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
 * The receiving half: every rank's declarations make one round (schedules/sized.ts
 * declaredRoundSized), timed as a unit; the payloads from `from` (each must have been declared,
 * with its size), in that order; the clock then moves to this rank's finish (its last arrival).
 */
export async function receiveDeclared(ep: Endpoint, own: Entry, from: readonly number[], time: UnitTimer, what: string, step = 0): Promise<Uint8Array[]> {
  const { entries, values } = await receiveStamps(ep, own, what);
  const schedule = declaredRoundSized(what, what, values);
  const declared = new Map<number, number>();
  for (const t of schedule.rounds[0]?.transfers ?? []) if (t.to === ep.rank) declared.set(t.from, (declared.get(t.from) ?? 0) + t.bytes!);
  for (const j of from) if (!declared.has(j)) throw new Error(`${what}: rank ${ep.rank} expects a message from ${j}, which declared none to it`);
  const timing = time(schedule, entries, own.op);
  if (own.records) fillRecords(ep, own.records, timing);
  const out: Uint8Array[] = [];
  for (const j of from) {
    const p = (await ep.recvRaw(j, own.op, step)).payload;
    checkDeclared(what, j, p.byteLength, declared.get(j)!);
    out.push(p);
  }
  leaveAt(ep, timing);
  return out;
}
