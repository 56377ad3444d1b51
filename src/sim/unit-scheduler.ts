import type { Schedule } from '../../comm/collectives/schedules/schedule.ts';
import type { Topology } from '../../topologies/index.ts';
import { flowsOf, timeSchedule, type CollectiveTiming } from './collective-time.ts';
import { sentTimes } from './eager-schedule.ts';
import type { FaultSchedule } from './faults.ts';
import { simulateFlows, type FlowRequest, type Reservation } from './flow-sim.ts';
import { flowLinkIndices, UnitLedger } from './unit-ledger.ts';

/** A unit-timed collective whose entries are known: what the flow simulation needs. */
interface Entered {
  schedule: Schedule;
  entries: readonly number[];
}

/**
 * One process's timing of unit-timed collectives (max-min), shared by its ranks: a collective is
 * *entered* when a rank has everyone's entry times, and *decided* when a rank first needs its
 * finish times (a blocking collective at once; a background one, `sendInBackground`, when the
 * program awaits it). Deciding X simulates together, max-min, every collective entered and not
 * yet decided, against the capacity that decided ones take (UnitLedger); X's finish times and
 * per-link rates from that joint simulation become final, the others stay pending and are
 * simulated again when they are needed (with X's rates reserved, and with whatever was entered
 * meanwhile).
 *
 * Why every process decides the same: all ranks run the same program. A rank completes the entry
 * exchange of a collective only after every rank entered it, and a rank that needs X at program
 * point P has entered exactly the collectives before P. So in any process, whichever of its ranks
 * first needs X, the collectives entered there are exactly those before P in program order, and
 * the ones decided are those needed before P: the same sets in every process, in any packing and
 * over ws. Entries are registered in program order, which orders the joint simulation's flows.
 *
 * Exactness: a collective's finish times are exact max-min with every collective entered before
 * its result is needed. One entered after that point (in program order) that starts, in virtual
 * time, before the first one's tail ends gets the capacity it leaves (first come first served).
 * With nothing in the background each collective is decided as it is entered, alone against the
 * ledger: exactly `timeSchedule` as before.
 */
export class UnitScheduler {
  private readonly ledger = new UnitLedger();
  /** Entered, not decided, in program order (never evicted). */
  private readonly pending = new Map<number, Entered>();
  /** Decided timings, until every local rank has fetched them. */
  private readonly decided = new Map<number, { timing: CollectiveTiming; fetched: number; point: number | null }>();

  constructor(
    private readonly topology: Topology,
    private readonly faults: FaultSchedule | null,
    /** Ranks of this process: each asks for each op once, then the decision is forgotten (Infinity: kept). */
    private readonly localRanks = Infinity,
  ) {}

  /** Register a collective with its entries (the first rank of this process to have them does). */
  enter(schedule: Schedule, entries: readonly number[], op: number): void {
    if (this.pending.has(op) || this.decided.has(op)) return;
    this.pending.set(op, { schedule, entries: [...entries] });
  }

  /**
   * A rank needs op's finish times now; each rank of the process asks once. `point` (for a
   * background collective: how many collectives the asking rank had started) must be the same for
   * every rank: a rank that read a background transfer's arrival earlier than the others (say,
   * to log it) would decide it against fewer collectives, and processes holding different ranks
   * would then disagree on its finish. That is refused rather than left to give packing-dependent
   * numbers (an in-process run holds every rank, so it always catches it).
   */
  decide(op: number, point: number | null = null): CollectiveTiming {
    let d = this.decided.get(op);
    if (!d) {
      const target = this.pending.get(op);
      if (!target) throw new Error(`unit-timed collective ${op} decided before it was entered`);
      d = { timing: this.simulate(op, target), fetched: 0, point };
      this.pending.delete(op);
      this.decided.set(op, d);
    } else if (d.point !== point) {
      throw new Error(
        `the arrival of a background collective was first needed at different points of the program on different ranks (after collective ${d.point} on one, ${point} on another): every rank must await a background transfer, or read its arrival, at the same point`,
      );
    }
    if (++d.fetched >= this.localRanks) this.decided.delete(op);
    return d.timing;
  }

  /** Blocking: enter and decide at once. */
  time(schedule: Schedule, entries: readonly number[], op: number): CollectiveTiming {
    this.enter(schedule, entries, op);
    return this.decide(op);
  }

  /** Background: enter now, decide when the returned function is first called (at the rank's program `point`). */
  defer(schedule: Schedule, entries: readonly number[], op: number): (point: number) => CollectiveTiming {
    this.enter(schedule, entries, op);
    return (point) => this.decide(op, point);
  }

  /** Collectives entered and not decided (tests, diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private simulate(op: number, target: Entered): CollectiveTiming {
    if (this.pending.size === 1) return timeSchedule(this.topology, target.schedule, target.entries, 'max-min', 4, this.faults, this.ledger);
    return decideJointly(this.topology, [...this.pending.values()], [...this.pending.keys()].indexOf(op), this.faults, this.ledger);
  }
}

/**
 * Simulate `units` together (their flows concatenated in order, dependencies within each) against
 * the ledger's reservations; return unit x's timing and record its rate profile in the ledger.
 */
export function decideJointly(topology: Topology, units: readonly Entered[], x: number, faults: FaultSchedule | null, ledger: UnitLedger): CollectiveTiming {
  let first = Infinity;
  for (const u of units) for (const e of u.entries) if (e < first) first = e;
  let reserved: Reservation[] = ledger.reservedFrom(first);
  if (!reserved.some((r) => r.rate > 0)) reserved = [];
  const all: FlowRequest[] = [];
  let parts: ReturnType<typeof flowsOf> | null = null;
  let xFrom = 0;
  let xTo = 0;
  units.forEach((u, i) => {
    // Eager (sized) schedules keep their message semantics (flowsOf).
    const part = flowsOf(topology, u.schedule, (r) => u.entries[r]!, 4);
    const off = all.length;
    if (i === x) {
      parts = part;
      xFrom = off;
      xTo = off + part.flows.length;
    }
    for (const f of part.flows) all.push(off === 0 ? f : { ...f, deps: f.deps.map((d) => d + off), ...(f.afterEnd ? { afterEnd: f.afterEnd.map((d) => d + off) } : {}) });
  });
  const xParts: ReturnType<typeof flowsOf> = parts!;
  const { clock, transfers, joins } = xParts;
  const events: { t: number; f: number; r: number }[] = [];
  const times = simulateFlows(topology, all, 'max-min', (t, f, r) => (f >= xFrom && f < xTo ? events.push({ t, f: f - xFrom, r }) : 0), faults, reserved.length > 0 ? reserved : null);
  const n = units[x]!.schedule.n;
  const entries = units[x]!.entries;
  const finish = new Float64Array(n);
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) {
    finish[r] = clock[r]! >= 0 ? times.arrival[xFrom + clock[r]!]! : entries[r]!;
    if (finish[r]! > makespan) makespan = finish[r]!;
  }
  let lastEnd = -Infinity;
  for (let f = xFrom; f < xTo; f++) if (all[f]!.from !== all[f]!.to && times.end[f]! > lastEnd) lastEnd = times.end[f]!;
  if (lastEnd > -Infinity) {
    const own = all.slice(xFrom, xTo);
    ledger.add(lastEnd, () => ({ events, routeOf: flowLinkIndices(topology, own) }));
  }
  const arrival = times.arrival;
  const roundEnds = (rank: number): [number, number][] => joins[rank]!.map(([round, f]) => [round, arrival[xFrom + f]!]);
  const sent = 'sends' in xParts ? { sent: sentTimes(all, xParts.sends.map((l) => l.map((f) => f + xFrom)), arrival) } : {};
  return { finish, makespan, transfers, roundEnds, ...sent };
}
