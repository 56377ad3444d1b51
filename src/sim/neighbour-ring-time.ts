import type { Schedule } from '../../comm/collectives/schedules/schedule.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import type { CollectiveTiming } from './collective-time.ts';
import type { Sharing } from './flow-sim.ts';

/**
 * timeSchedule for schedules in which, every round, each rank sends exactly one transfer, to its
 * successor (the ring all-reduce, reduce-scatter and all-gather), on a topology where the routes
 * r -> r+1 share no link and no link has a trace (a ring; a switch, whatever each NIC's
 * bandwidth; any topology that passes the check). Such transfers provably never contend: a
 * link carries the flows of one sender only, and a sender's next transfer waits for the arrival
 * of its previous one (max-min) or for its link (fifo). So no flow simulation or message model
 * is needed, only each rank's clock, computed with the very operations those perform:
 *
 * - `fifo` (collective-time's replayMessages through NetworkModel): per sender, its route's
 *   occupancy (one value per hop when routes store and forward, one for the route when they cut
 *   through); eager = arrival of its send; its receiver's arrival shifted by how much later the
 *   receiver reached the round; a clock after a round = the latest of itself and its send's and
 *   receive's arrivals.
 * - `max-min` (flow-sim through scheduleToFlows): a flow alone on its links runs at its route's
 *   smallest bandwidth (progressive filling of one flow: cap / 1); it starts when both ends have
 *   joined the previous round, ends after 8m/rate and arrives the route's summed latency later;
 *   a rank's join is the latest of its entry, its previous join and its round's two arrivals.
 *
 * O(transfers) arithmetic on typed arrays: a 1024-rank ring all-reduce (2 million transfers) in
 * tens of milliseconds, where the replay through NetworkModel's maps and the event-driven flow
 * simulation take seconds. Returns null when the schedule or the topology do not qualify; the
 * caller then replays. test/neighbour-ring-time.test.ts checks both sharings against the replay.
 */
export function timeNeighbourRing(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, sharing: Sharing, elementBytes: number): CollectiveTiming | null {
  const n = schedule.n;
  const rounds = schedule.rounds;
  if (n < 2 || rounds.length === 0) return null;
  if (RingRounds.refused(schedule)) return null;
  const routes = disjointSuccessorRoutes(topology, n);
  if (!routes) return null;
  const shape = new RingRounds(schedule, elementBytes);
  if (sharing === 'fifo') return replayFifo(topology, routes, n, shape, entryOf);
  // Entries as they are now: the round ends may be asked for later.
  const entries = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const finish = maxMinAlone(routes, n, shape, (r) => entries[r]!, null);
  if (!finish) return null;
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (finish[r]! > makespan) makespan = finish[r]!;
  // Every round's ends only when asked for (runScheduleAsUnit): a second pass that keeps them
  // (2 million values for a 1024-rank ring), over the element counts kept by the first.
  let joins: Float64Array | null = null;
  const R = shape.count;
  const roundEnds = (rank: number): [number, number][] => {
    joins ??= keepJoins(routes, n, schedule, elementBytes, (r) => entries[r]!);
    return Array.from({ length: R }, (_, s) => [s, joins![s * n + rank]!]);
  };
  return { finish, makespan, transfers: R * n, roundEnds };
}

function keepJoins(routes: Link[][], n: number, schedule: Schedule, elementBytes: number, entryOf: (r: number) => number): Float64Array {
  const joins = new Float64Array(schedule.rounds.length * n);
  maxMinAlone(routes, n, new RingRounds(schedule, elementBytes), entryOf, joins);
  return joins;
}

/**
 * Element counts per (round, sender) of schedules already read, so timing the same schedule again
 * (runs cache their schedules and time them every step) skips its transfer objects; null for a
 * schedule that is not a successor ring. Schedules are immutable data (schedule.ts).
 */
const countsOf = new WeakMap<Schedule, Float64Array | null>();

/**
 * The rounds' bytes per sender, one round at a time while timing: `read(s)` fills `bytes` and
 * returns false if round s is not one send per rank to its successor. The first reading of a
 * schedule checks its transfers and keeps their element counts (countsOf).
 */
class RingRounds {
  readonly count: number;
  readonly bytes: Float64Array;
  private readonly seen: Int32Array;
  private readonly known: Float64Array | null;
  private readonly counts: Float64Array | null;
  constructor(
    private readonly schedule: Schedule,
    private readonly elementBytes: number,
  ) {
    this.count = schedule.rounds.length;
    this.bytes = new Float64Array(schedule.n);
    this.seen = new Int32Array(schedule.n).fill(-1);
    this.known = countsOf.get(schedule) ?? null;
    this.counts = this.known ? null : new Float64Array(this.count * schedule.n);
  }
  /** True if an earlier reading found this schedule not to be a successor ring. */
  static refused(schedule: Schedule): boolean {
    return countsOf.get(schedule) === null;
  }
  read(s: number): boolean {
    const n = this.schedule.n;
    const bytes = this.bytes;
    const eb = this.elementBytes;
    if (this.known) {
      const k = this.known;
      for (let r = 0, o = s * n; r < n; r++, o++) bytes[r] = k[o]! * eb;
      return true;
    }
    const ts = this.schedule.rounds[s]!.transfers;
    if (ts.length !== n) return this.refuse();
    const seen = this.seen;
    const counts = this.counts!;
    for (let k = 0; k < n; k++) {
      const t = ts[k]!;
      const r = t.from;
      if (!(r >= 0 && r < n) || seen[r] === s || t.to !== (r + 1 === n ? 0 : r + 1)) return this.refuse();
      seen[r] = s;
      const c = t.end - t.start;
      counts[s * n + r] = c;
      bytes[r] = c * eb;
    }
    if (s === this.count - 1) countsOf.set(this.schedule, counts);
    return true;
  }
  private refuse(): false {
    countsOf.set(this.schedule, null);
    return false;
  }
}

/** Route r -> r+1 for each r, or null if two share a link, a link has a trace or a route is empty. */
function disjointSuccessorRoutes(topology: Topology, n: number): Link[][] | null {
  const owner = new Map<Link, number>();
  const routes: Link[][] = [];
  for (let r = 0; r < n; r++) {
    const route = topology.route(r, r + 1 === n ? 0 : r + 1);
    if (route.length === 0) return null;
    for (const l of route) {
      if (l.trace || owner.has(l)) return null;
      owner.set(l, r);
    }
    routes.push(route);
  }
  return routes;
}

function replayFifo(topology: Topology, routes: Link[][], n: number, rounds: RingRounds, entryOf: (r: number) => number): CollectiveTiming | null {
  const R = rounds.count;
  const bytes = rounds.bytes;
  const cut = topology.forwarding === 'cut';
  // Per rank: its route's hops (store) or the route's narrowest bandwidth and summed latency (cut).
  const hopStart = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) hopStart[r + 1] = hopStart[r]! + (cut ? 1 : routes[r]!.length);
  const bw = new Float64Array(hopStart[n]!);
  const lat = new Float64Array(hopStart[n]!);
  for (let r = 0; r < n; r++) {
    const route = routes[r]!;
    if (cut) {
      let b = Infinity;
      let a = 0;
      for (const l of route) {
        b = Math.min(b, l.bandwidth);
        a += l.latency;
      }
      bw[hopStart[r]!] = b;
      lat[hopStart[r]!] = a;
    } else {
      route.forEach((l, h) => {
        bw[hopStart[r]! + h] = l.bandwidth;
        lat[hopStart[r]! + h] = l.latency;
      });
    }
  }
  const busy = new Float64Array(hopStart[n]!);
  const clock = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const next = new Float64Array(n);
  // One hop per sender (a cut-through route, or a one-link store-and-forward one: the same
  // operations) is the usual case, without the hop loop. Comparisons instead of Math.max give
  // the same values: clocks are finite and link occupancy is never -0.
  const oneHop = hopStart[n] === n;
  for (let s = 0; s < R; s++) {
    if (!rounds.read(s)) return null;
    next.set(clock);
    for (let r = 0; r < n; r++) {
      const to = r + 1 === n ? 0 : r + 1;
      const sent = clock[r]!;
      const m = bytes[r]!;
      let eager: number;
      if (oneHop) {
        // NetworkModel: start when the link (route) is free, serialize, then the latency.
        const f = busy[r]!;
        const start = sent > f ? sent : f;
        const ser = (m * 8) / bw[r]!;
        busy[r] = start + ser;
        eager = start + ser + lat[r]!;
      } else {
        // NetworkModel.time: store and forward, hop by hop.
        let t = sent;
        for (let h = hopStart[r]!; h < hopStart[r + 1]!; h++) {
          const start = Math.max(t, busy[h]!);
          const ser = (m * 8) / bw[h]!;
          busy[h] = start + ser;
          t = start + ser + lat[h]!;
        }
        eager = t;
      }
      const late = clock[to]! - sent;
      const arrival = eager + (late > 0 ? late : 0);
      if (eager > next[r]!) next[r] = eager;
      if (arrival > next[to]!) next[to] = arrival;
    }
    clock.set(next);
  }
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (clock[r]! > makespan) makespan = clock[r]!;
  return { finish: clock, makespan, transfers: R * n };
}

/** Each rank's last join (its finish); every round's joins into `keep` when given. */
function maxMinAlone(routes: Link[][], n: number, rounds: RingRounds, entryOf: (r: number) => number, keep: Float64Array | null): Float64Array | null {
  const R = rounds.count;
  const bytes = rounds.bytes;
  const rate = new Float64Array(n);
  const lat = new Float64Array(n);
  const entry = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let b = Infinity;
    let a = 0;
    for (const l of routes[r]!) {
      b = Math.min(b, l.bandwidth);
      a += l.latency;
    }
    rate[r] = b;
    lat[r] = a;
    entry[r] = entryOf(r);
  }
  // prev and cur: when each rank's rounds s - 1 and s ended (its clock join flow's arrival).
  let prev = Float64Array.from(entry);
  let cur = new Float64Array(n);
  const arrival = new Float64Array(n);
  for (let s = 0; s < R; s++) {
    if (!rounds.read(s)) return null;
    for (let r = 0; r < n; r++) {
      const to = r + 1 === n ? 0 : r + 1;
      let ready = entry[r]! > entry[to]! ? entry[r]! : entry[to]!;
      if (s > 0) {
        const a = prev[r]!;
        const b = prev[to]!;
        if (a > ready) ready = a;
        if (b > ready) ready = b;
      }
      const remaining = bytes[r]! * 8;
      const end = remaining <= 0 ? ready : ready + remaining / rate[r]!;
      arrival[r] = end + lat[r]!;
    }
    for (let r = 0; r < n; r++) {
      const from = r === 0 ? n - 1 : r - 1;
      let j = entry[r]!;
      if (s > 0 && prev[r]! > j) j = prev[r]!;
      if (arrival[r]! > j) j = arrival[r]!;
      if (arrival[from]! > j) j = arrival[from]!;
      cur[r] = j;
    }
    if (keep) keep.set(cur, s * n);
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev;
}
