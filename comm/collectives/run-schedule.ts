import type { Endpoint } from '../endpoint.ts';
import { bytesToF32 } from './chunks.ts';
import type { Schedule, Transfer } from './schedules/schedule.ts';
import { compactRingOf, ringRankPlan } from './schedules/ring.ts';
import { receiveStamps, sendStamp } from './run-sized-unit.ts';
import { logPhase } from './configured.ts';

/** What a unit-timed collective learns from the flow simulation. */
export interface UnitTiming {
  /** Virtual time at which each rank leaves. */
  finish: ArrayLike<number>;
  /** A rank's rounds (index) and when each ended, for the timeline. */
  roundEnds?: (rank: number) => [number, number][];
}

/** One rank's part of a schedule: its sends and receives per round. */
export interface RankPlan {
  sends: Transfer[][];
  recvs: Transfer[][];
}

const plans = new WeakMap<Schedule, Map<number, RankPlan>>();

/** The rank's sends and receives per round (cached per schedule; a compact ring's without reading its rounds). */
export function planOf(schedule: Schedule, rank: number): RankPlan {
  let byRank = plans.get(schedule);
  if (!byRank) {
    byRank = new Map();
    plans.set(schedule, byRank);
  }
  let plan = byRank.get(rank);
  const ring = plan ? null : compactRingOf(schedule);
  if (ring) {
    plan = ringRankPlan(ring, rank);
    byRank.set(rank, plan);
  }
  if (!plan) {
    plan = { sends: [], recvs: [] };
    for (const round of schedule.rounds) {
      plan.sends.push(round.transfers.filter((t) => t.from === rank));
      plan.recvs.push(round.transfers.filter((t) => t.to === rank));
    }
    byRank.set(rank, plan);
  }
  return plan;
}

/**
 * Run an all-reduce schedule on real bytes, in place: round by round, send the round's ranges
 * (copies of the values at the start of the round), then receive and add or copy. Virtual time
 * follows the alpha-beta step model: a transfer starts when its sender and its receiver have
 * both reached the round (a receiver that is late delays it), and sends are blocking, so the
 * rank's next round starts when its receives and its own sends (as the sender timed them) have
 * arrived. Element ranges must be whole (floorCut schedules).
 */
export async function runSchedule(ep: Endpoint, data: Float32Array, schedule: Schedule, op: number, onRound?: (round: number, phase: string, start: number, end: number) => void): Promise<void> {
  const plan = planOf(schedule, ep.rank);
  for (let k = 0; k < schedule.rounds.length; k++) {
    const sends = plan.sends[k]!;
    const recvs = plan.recvs[k]!;
    if (sends.length === 0 && recvs.length === 0) continue;
    const begin = ep.now;
    let clock = ep.now;
    for (const t of sends) {
      const bytes = new Uint8Array(data.buffer.slice(data.byteOffset + t.start * 4, data.byteOffset + t.end * 4));
      const arrival = ep.send(t.to, op, k, bytes);
      if (arrival > clock) clock = arrival;
    }
    for (const t of recvs) {
      // Rendezvous: the transfer starts when both sides have reached the round, so a message
      // sent before this rank was ready arrives that much later (what lockstep closed forms assume).
      const msg = await ep.recvRaw(t.from, op, k);
      if (Number.isNaN(msg.arrival)) throw new Error(`${schedule.algorithm}: a shared link from ${t.from} (collectives run between workers, not through a star's server)`);
      const arrival = msg.arrival + Math.max(0, begin - msg.sendTime);
      if (arrival > ep.now) ep.now = arrival;
      const incoming = bytesToF32(msg.payload);
      if (incoming.length !== t.end - t.start) throw new Error(`${schedule.algorithm}: round ${k} from ${t.from} has ${incoming.length} values, expected ${t.end - t.start}`);
      if (t.reduce) for (let i = t.start, j = 0; i < t.end; i++, j++) data[i] = incoming[j]! + data[i]!;
      else data.set(incoming, t.start);
    }
    if (clock > ep.now) ep.now = clock;
    logPhase(ep, schedule.rounds[k]!.phase, begin, ep.now);
    onRound?.(k, schedule.rounds[k]!.phase, begin, ep.now);
  }
}

/**
 * Run a schedule whose virtual time is decided as a unit: every rank tells every other its entry
 * time (an entry stamp without declared values, metadata, not payload: run-sized-unit.ts's, so
 * ranks of one process share theirs on the stamp board instead of messaging each other), computes the same per-rank finish times with the same pure
 * function (`time`: the max-min flow simulation of the whole schedule), moves the bytes
 * untimed, and leaves at its finish time. Contention between the collective's own flows (incast,
 * shared WAN links) is thereby shared max-min fairly, identically in every process. In a
 * background exchange the finish time is decided when the rank first needs it (`defer`), so
 * collectives entered meanwhile share the links with this one (src/sim/unit-scheduler.ts).
 */
export async function runScheduleAsUnit(
  ep: Endpoint,
  data: Float32Array,
  /** The schedule, or (auto under a changing network) the one to run given every rank's entry time. */
  scheduleOrChoice: Schedule | ((entries: readonly number[]) => Schedule),
  op: number,
  time: (entries: readonly number[], schedule: Schedule) => UnitTiming,
  /**
   * Inside a background exchange (`ep.background > 0`): register the collective with its entries
   * now and return how to decide its timing later (when the rank first needs it). The rank's
   * clock then waits for it through `Endpoint.deferClock`, read by `sendInBackground`.
   */
  defer?: (entries: readonly number[], schedule: Schedule) => (point: number) => UnitTiming,
): Promise<void> {
  const me = ep.rank;
  const label = typeof scheduleOrChoice === 'function' ? 'all-reduce' : scheduleOrChoice.algorithm;
  const own = sendStamp(ep, op, []);
  const entry = own.entry;
  const { entries } = await receiveStamps(ep, own, label, 0);
  // Every rank holds the same entries, so a choice made from them is the same everywhere.
  const schedule = typeof scheduleOrChoice === 'function' ? scheduleOrChoice(entries) : scheduleOrChoice;
  // The rank's phases go to the timeline when its timing is known (for a deferred collective, in
  // the step whose program first needs it).
  const finishOf = (timing: UnitTiming): number => {
    let from = entry;
    for (const [round, end] of timing.roundEnds?.(me) ?? []) {
      logPhase(ep, schedule.rounds[round]!.phase, from, end);
      from = end;
    }
    return timing.finish[me]!;
  };
  const later = defer && ep.background > 0 ? defer(entries, schedule) : null;
  const finish = later ? 0 : finishOf(time(entries, schedule));
  const plan = planOf(schedule, me);
  for (let k = 0; k < schedule.rounds.length; k++) {
    for (const t of plan.sends[k]!) ep.sendUntimed(t.to, op, k, new Uint8Array(data.buffer.slice(data.byteOffset + t.start * 4, data.byteOffset + t.end * 4)));
    for (const t of plan.recvs[k]!) {
      const incoming = bytesToF32((await ep.recvRaw(t.from, op, k)).payload);
      if (incoming.length !== t.end - t.start) throw new Error(`${schedule.algorithm}: round ${k} from ${t.from} has ${incoming.length} values, expected ${t.end - t.start}`);
      if (t.reduce) for (let i = t.start, j = 0; i < t.end; i++, j++) data[i] = incoming[j]! + data[i]!;
      else data.set(incoming, t.start);
    }
  }
  // The decision is made where the program first needs it; every rank must need it at the same
  // point (its count of collectives started), which the scheduler checks.
  if (later) ep.deferClock(() => finishOf(later(ep.opsStarted())));
  else if (finish > ep.now) ep.now = finish;
}
