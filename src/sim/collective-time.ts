import type { Schedule } from '../../comm/collectives/schedules/schedule.ts';
import type { Topology } from '../../topologies/index.ts';
import type { FaultSchedule } from './faults.ts';
import { simulateFlows, type FlowRequest, type Reservation, type Sharing } from './flow-sim.ts';
import { flowLinkIndices, type UnitLedger } from './unit-ledger.ts';
import { NetworkModel } from './network-model.ts';
import { timeNeighbourRing } from './neighbour-ring-time.ts';
import { eagerScheduleToFlows, replayEagerMessages, sentTimes, transferBytes } from './eager-schedule.ts';
import { timeEagerAlone } from './eager-alone-time.ts';

export interface CollectiveTiming {
  /** Virtual time at which each rank leaves the collective. */
  finish: Float64Array;
  /** The latest finish: the collective's duration when every rank enters at 0. */
  makespan: number;
  /** Flows simulated (transfers; the per-rank clock joins are not counted). */
  transfers: number;
  /** max-min: the rounds a rank took part in and when each ended for it. */
  roundEnds?: (rank: number) => [number, number][];
  /** Eager (sized) schedules: [send, arrival] of each of a rank's transfers, in its sending order. */
  sent?: (rank: number) => [number, number][];
}

/**
 * Time a collective schedule without payloads: every transfer becomes a flow of
 * (end - start) x elementBytes bytes, started when both its sender and its receiver have ended
 * their previous rounds (their receives and own sends arrived) and entered the collective: the
 * rule runSchedule follows with real bytes, so with `fifo` sharing both give the same times.
 */
export function timeSchedule(
  topology: Topology,
  schedule: Schedule,
  entry: number | readonly number[],
  sharing: Sharing = 'max-min',
  elementBytes = 4,
  /** Link faults and partitions of the run's timeline (flow-sim.ts: rates change at their breakpoints, partitions stall the flows they cut). */
  faults: FaultSchedule | null = null,
  /** max-min: collectives timed before and maybe still in flight; this one gets the capacity they leave, and is recorded. */
  ledger: UnitLedger | null = null,
): CollectiveTiming {
  const n = schedule.n;
  const entries = typeof entry === 'number' ? entry : [...entry];
  const entryOf = (r: number) => (typeof entries === 'number' ? entries : entries[r]!);
  const faulty = faults !== null && faults.faults.some((f) => f.kind === 'link' || f.kind === 'partition');
  const useLedger = ledger !== null && sharing === 'max-min';
  let reserved: Reservation[] = [];
  if (useLedger) {
    let first = Infinity;
    for (let r = 0; r < n; r++) first = Math.min(first, entryOf(r));
    reserved = ledger.reservedFrom(first);
    // Earlier collectives whose flows are all over by then leave the links as they were.
    if (!reserved.some((x) => x.rate > 0)) reserved = [];
  }
  // A ring whose transfers never contend: the same clocks without replaying (neighbour-ring-time.ts),
  // unless faults or earlier collectives change the links' capacity meanwhile.
  // Eager (sized) schedules whose links each have one sender likewise under max-min (eager-alone-time.ts).
  const fast = faulty || reserved.length > 0 ? null : schedule.eager ? (sharing === 'max-min' ? timeEagerAlone(topology, schedule, entryOf, elementBytes) : null) : timeNeighbourRing(topology, schedule, entryOf, sharing, elementBytes);
  if (fast) {
    // Its flows are over by its makespan (a conservative end for the ledger).
    if (useLedger) recordInLedger(ledger, topology, schedule, entryOf, elementBytes, faults, reserved, fast.makespan);
    return fast;
  }
  const { timing, lastEnd } = replay(topology, schedule, entryOf, sharing, elementBytes, faults, reserved);
  if (useLedger && lastEnd > -Infinity) recordInLedger(ledger, topology, schedule, entryOf, elementBytes, faults, reserved, lastEnd);
  return timing;
}

/** timeSchedule through the message model (`fifo`) or the flow simulator (`max-min`), whatever the schedule. */
export function replaySchedule(topology: Topology, schedule: Schedule, entry: number | readonly number[], sharing: Sharing = 'max-min', elementBytes = 4, faults: FaultSchedule | null = null): CollectiveTiming {
  const entries = typeof entry === 'number' ? entry : [...entry];
  return replay(topology, schedule, (r) => (typeof entries === 'number' ? entries : entries[r]!), sharing, elementBytes, faults, []).timing;
}

/** The replay, and (max-min) when its last transfer's last bit left. */
function replay(
  topology: Topology,
  schedule: Schedule,
  entryOf: (r: number) => number,
  sharing: Sharing,
  elementBytes: number,
  faults: FaultSchedule | null,
  reserved: Reservation[],
): { timing: CollectiveTiming; lastEnd: number } {
  const n = schedule.n;
  if (sharing === 'fifo') return { timing: (schedule.eager ? replayEagerMessages : replayMessages)(topology, schedule, entryOf, elementBytes, faults), lastEnd: -Infinity };
  const fl = flowsOf(topology, schedule, entryOf, elementBytes);
  const { flows, clock, transfers, joins } = fl;
  const times = simulateFlows(topology, flows, 'max-min', undefined, faults, reserved.length > 0 ? reserved : null);
  let lastEnd = -Infinity;
  for (let f = 0; f < flows.length; f++) if (flows[f]!.from !== flows[f]!.to && times.end[f]! > lastEnd) lastEnd = times.end[f]!;
  const roundEnds = (rank: number): [number, number][] => joins[rank]!.map(([round, f]) => [round, times.arrival[f]!]);
  const finish = new Float64Array(n);
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) {
    finish[r] = clock[r]! >= 0 ? times.arrival[clock[r]!]! : entryOf(r);
    if (finish[r]! > makespan) makespan = finish[r]!;
  }
  const sent = 'sends' in fl ? { sent: sentTimes(flows, fl.sends, times.arrival) } : {};
  return { timing: { finish, makespan, transfers, roundEnds, ...sent }, lastEnd };
}

/** Keep a collective in the ledger; its rate profile is replayed only if a later one enters before `end`. */
function recordInLedger(
  ledger: UnitLedger,
  topology: Topology,
  schedule: Schedule,
  entryOf: (r: number) => number,
  elementBytes: number,
  faults: FaultSchedule | null,
  reserved: Reservation[],
  end: number,
): void {
  ledger.add(end, () => {
    const again = flowsOf(topology, schedule, entryOf, elementBytes).flows;
    const events: { t: number; f: number; r: number }[] = [];
    simulateFlows(topology, again, 'max-min', (t, f, r) => events.push({ t, f, r }), faults, reserved.length > 0 ? reserved : null);
    return { events, routeOf: flowLinkIndices(topology, again) };
  });
}

/**
 * `fifo`: exactly what runSchedule does with real bytes over NetworkModel, without the bytes.
 * Each send is timed by the message model at its sender's clock (per-sender link occupancy);
 * a receiver that reached the round later than the sender shifts the arrival by the difference;
 * a rank's clock after a round is the latest of its receives and its own sends' arrivals.
 */
function replayMessages(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, elementBytes: number, faults: FaultSchedule | null): CollectiveTiming {
  const n = schedule.n;
  const model = new NetworkModel(topology, faults);
  const clock = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const next = new Float64Array(n);
  let transfers = 0;
  for (const round of schedule.rounds) {
    next.set(clock);
    for (const t of round.transfers) {
      const sent = clock[t.from]!;
      const eager = model.transmit(t.from, t.to, transferBytes(t, elementBytes), sent);
      const arrival = eager + Math.max(0, clock[t.to]! - sent);
      if (eager > next[t.from]!) next[t.from] = eager;
      if (arrival > next[t.to]!) next[t.to] = arrival;
      transfers++;
    }
    clock.set(next);
  }
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (clock[r]! > makespan) makespan = clock[r]!;
  return { finish: clock, makespan, transfers };
}

/** The flows of a schedule: eager (message semantics, eager-schedule.ts) or lockstep rounds (scheduleToFlows). Whatever times a Schedule as flows must go through here. */
export function flowsOf(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, elementBytes: number): ReturnType<typeof scheduleToFlows> | ReturnType<typeof eagerScheduleToFlows> {
  return schedule.eager ? eagerScheduleToFlows(topology, schedule, entryOf, elementBytes) : scheduleToFlows(schedule, entryOf, elementBytes);
}

/**
 * The flows of a schedule (max-min semantics): each transfer waits for the previous round of its
 * sender and of its receiver; per rank a zero-byte self flow joins its round (`clock[r]` is the
 * index of rank r's last one, -1 if it takes no part).
 */
export function scheduleToFlows(schedule: Schedule, entryOf: (r: number) => number, elementBytes = 4): { flows: FlowRequest[]; clock: Int32Array; transfers: number; joins: [number, number][][] } {
  const n = schedule.n;
  // Per rank: [round, index of its clock join after that round].
  const joins: [number, number][][] = Array.from({ length: n }, () => []);
  let roundIndex = -1;
  const flows: FlowRequest[] = [];
  // The flow index of each rank's clock after its last round (a zero-byte self transfer that
  // waits for the round's flows), or -1 before its first round.
  const clock = new Int32Array(n).fill(-1);
  let transfers = 0;
  const touched: number[] = [];
  const roundFlows = new Map<number, number[]>();
  for (const round of schedule.rounds) {
    roundIndex++;
    roundFlows.clear();
    touched.length = 0;
    const note = (r: number, f: number) => {
      let l = roundFlows.get(r);
      if (!l) {
        l = [];
        roundFlows.set(r, l);
        touched.push(r);
      }
      l.push(f);
    };
    for (const t of round.transfers) {
      const f = flows.length;
      const deps: number[] = [];
      if (clock[t.from]! >= 0) deps.push(clock[t.from]!);
      if (clock[t.to]! >= 0) deps.push(clock[t.to]!);
      flows.push({ from: t.from, to: t.to, bytes: transferBytes(t, elementBytes), ready: Math.max(entryOf(t.from), entryOf(t.to)), deps });
      transfers++;
      note(t.from, f);
      note(t.to, f);
    }
    for (const r of touched) {
      const deps = roundFlows.get(r)!;
      if (clock[r]! >= 0) deps.push(clock[r]!);
      clock[r] = flows.length;
      joins[r]!.push([roundIndex, flows.length]);
      flows.push({ from: r, to: r, bytes: 0, ready: entryOf(r), deps });
    }
  }
  return { flows, clock, transfers, joins };
}
