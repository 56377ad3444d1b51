import { compactRingOf, ringChunkBoundaries, ringChunkSent } from '../../comm/collectives/schedules/ring.ts';
import type { CompactRing, Schedule } from '../../comm/collectives/schedules/schedule.ts';
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
 * O(transfers) arithmetic on typed arrays, read from the schedule's compact form when it has one
 * (no transfer object is built or read): a 1024-rank ring all-reduce (2 million transfers),
 * schedule built and timed, in 10-20 ms, where the replay through NetworkModel's maps and the
 * event-driven flow simulation take seconds. Returns null when the schedule or the topology do
 * not qualify; the caller then replays. test/neighbour-ring-time.test.ts checks both sharings
 * against the replay, test/compact-ring.test.ts the compact form against the materialised one.
 */
export function timeNeighbourRing(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, sharing: Sharing, elementBytes: number): CollectiveTiming | null {
  const n = schedule.n;
  if (n < 2 || schedule.rounds.length === 0) return null;
  if (RingRounds.refused(schedule)) return null;
  const routes = disjointSuccessorRoutes(topology, n);
  if (!routes) return null;
  if (sharing === 'fifo') return replayFifo(topology, routes, n, schedule, elementBytes, entryOf);
  // Entries as they are now: the round ends may be asked for later.
  const entries = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const finish = maxMinAlone(routes, n, schedule, elementBytes, entries, null);
  if (!finish) return null;
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (finish[r]! > makespan) makespan = finish[r]!;
  // Every round's ends only when asked for (runScheduleAsUnit): a second pass that keeps them
  // (2 million values for a 1024-rank ring).
  let joins: Float64Array | null = null;
  const R = schedule.rounds.length;
  const roundEnds = (rank: number): [number, number][] => {
    if (!joins) {
      joins = new Float64Array(R * n);
      maxMinAlone(routes, n, schedule, elementBytes, entries, joins);
    }
    return Array.from({ length: R }, (_, s) => [s, joins![s * n + rank]!]);
  };
  return { finish, makespan, transfers: R * n, roundEnds };
}

/**
 * Element counts per (round, sender) of schedules already read, so timing the same schedule again
 * (runs cache their schedules and time them every step) skips its transfer objects; null for a
 * schedule that is not a successor ring. Schedules are immutable data (schedule.ts). Schedules
 * that carry their compact ring form (allReduceSchedule('ring', ...)) are never read at all.
 */
const countsOf = new WeakMap<Schedule, Float64Array | null>();

/**
 * The rounds' bytes per sender, one round at a time while timing: `read(s)` makes
 * bytes[bytesAt + r] rank r's bytes in round s (and, given each sender's route rate,
 * ser[serAt + r] its serialization time, 8 bytes / rate), or returns false if round s is not one
 * send per rank to its successor. A compact ring's rounds are rotations of its chunks (rank r
 * sends chunk (c0 + r) mod n, c0 that of rank 0): its chunks' bytes (and, when every sender has
 * the same rate, serialization times) are kept twice in a row, so round s is the window starting
 * at c0, with nothing copied or divided per round. Other schedules' transfers are checked on
 * their first reading, which keeps their element counts (countsOf).
 */
class RingRounds {
  readonly count: number;
  readonly bytes: Float64Array;
  bytesAt = 0;
  readonly ser: Float64Array;
  serAt = 0;
  private readonly ring: CompactRing | null;
  /** A compact ring whose senders all have the same rate: `ser` holds its chunks' times. */
  private readonly serByChunk: boolean = false;
  private readonly seen: Int32Array;
  private readonly known: Float64Array | null = null;
  private readonly counts: Float64Array | null = null;
  constructor(
    private readonly schedule: Schedule,
    private readonly elementBytes: number,
    /** Each sender's route rate (bits per second), when the timer wants `ser`. */
    private readonly rate: Float64Array | null,
  ) {
    const n = schedule.n;
    this.count = schedule.rounds.length;
    this.ring = compactRingOf(schedule);
    this.seen = new Int32Array(this.ring ? 0 : n).fill(-1);
    if (!this.ring) {
      this.bytes = new Float64Array(n);
      this.ser = new Float64Array(rate ? n : 0);
      this.known = countsOf.get(schedule) ?? null;
      this.counts = this.known ? null : new Float64Array(this.count * n);
      return;
    }
    // The same (end - start) x elementBytes as its transfers', and the same division.
    const at = ringChunkBoundaries(this.ring);
    this.bytes = new Float64Array(2 * n);
    for (let k = 0; k < n; k++) this.bytes[k] = this.bytes[k + n] = (at[k + 1]! - at[k]!) * elementBytes;
    this.serByChunk = rate !== null && rate.every((x) => x === rate[0]);
    this.ser = new Float64Array(this.serByChunk ? 2 * n : rate ? n : 0);
    if (this.serByChunk) for (let k = 0; k < 2 * n; k++) this.ser[k] = (this.bytes[k]! * 8) / rate![0]!;
  }
  /** True if an earlier reading found this schedule not to be a successor ring. */
  static refused(schedule: Schedule): boolean {
    return countsOf.get(schedule) === null;
  }
  read(s: number): boolean {
    if (!this.readBytes(s)) return false;
    const rate = this.rate;
    if (!rate) return true;
    if (this.serByChunk) {
      this.serAt = this.bytesAt;
      return true;
    }
    const bytes = this.bytes;
    const at = this.bytesAt;
    const ser = this.ser;
    // The division NetworkModel and the flow simulator do for a lone flow: 8 bytes / rate.
    for (let r = 0; r < ser.length; r++) ser[r] = (bytes[at + r]! * 8) / rate[r]!;
    this.serAt = 0;
    return true;
  }
  private readBytes(s: number): boolean {
    if (this.ring) {
      this.bytesAt = ringChunkSent(this.ring, s, 0);
      return true;
    }
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

function replayFifo(topology: Topology, routes: Link[][], n: number, schedule: Schedule, elementBytes: number, entryOf: (r: number) => number): CollectiveTiming | null {
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
  // One hop per sender (a cut-through route, or a one-link store-and-forward one: the same
  // operations) is the usual case: its serialization times come with the round (RingRounds.ser).
  const oneHop = hopStart[n] === n;
  const rounds = new RingRounds(schedule, elementBytes, oneHop ? bw : null);
  const R = rounds.count;
  const bytes = rounds.bytes;
  const ser = rounds.ser;
  const busy = new Float64Array(hopStart[n]!);
  let clock = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  let next = new Float64Array(n);
  for (let s = 0; s < R; s++) {
    if (!rounds.read(s)) return null;
    if (oneHop) fifoRoundOneHop(n, clock, next, busy, ser, rounds.serAt, lat);
    else fifoRoundHops(n, clock, next, busy, bytes, rounds.bytesAt, bw, lat, hopStart);
    const t = clock;
    clock = next;
    next = t;
  }
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (clock[r]! > makespan) makespan = clock[r]!;
  return { finish: clock, makespan, transfers: R * n };
}

/*
 * One fifo round (NetworkModel, one send per rank): a send starts when its link (route) is free,
 * serializes, then takes the latency (store and forward: hop by hop); a receiver that reached
 * the round later shifts its arrival by the difference. A rank's clock after the round
 * (`next`) is the latest of its clock, its send's eager arrival and its receive's arrival:
 * one pass in rank order, rank 0's receive (from rank n-1) last. Comparisons instead of
 * Math.max give the same values (clocks are finite, link occupancy is never -0), and the
 * latest of three values does not depend on the order of the comparisons. Top-level functions
 * over typed arrays, no closures: a 1024-rank ring runs the inner loop 2 million times.
 */

/** A round whose routes are one hop (cut-through, or a one-link store-and-forward route): `ser` = 8 bytes / bandwidth. */
function fifoRoundOneHop(n: number, clock: Float64Array, next: Float64Array, busy: Float64Array, ser: Float64Array, serAt: number, lat: Float64Array): void {
  const sent0 = clock[0]!;
  const f0 = busy[0]!;
  const end0 = (sent0 > f0 ? sent0 : f0) + ser[serAt]!;
  busy[0] = end0;
  const eager0 = end0 + lat[0]!;
  let late = clock[1]! - sent0;
  // The arrival at rank r of rank r-1's send.
  let incoming = eager0 + (late > 0 ? late : 0);
  for (let r = 1; r < n; r++) {
    const sent = clock[r]!;
    const f = busy[r]!;
    const end = (sent > f ? sent : f) + ser[serAt + r]!;
    busy[r] = end;
    const eager = end + lat[r]!;
    let j = sent;
    if (incoming > j) j = incoming;
    if (eager > j) j = eager;
    next[r] = j;
    late = clock[r + 1 === n ? 0 : r + 1]! - sent;
    incoming = eager + (late > 0 ? late : 0);
  }
  let j0 = sent0;
  if (eager0 > j0) j0 = eager0;
  if (incoming > j0) j0 = incoming;
  next[0] = j0;
}

/** A round over store-and-forward routes of several hops (NetworkModel.time, hop by hop). */
function fifoRoundHops(n: number, clock: Float64Array, next: Float64Array, busy: Float64Array, bytes: Float64Array, bytesAt: number, bw: Float64Array, lat: Float64Array, hopStart: Int32Array): void {
  next.set(clock);
  for (let r = 0; r < n; r++) {
    const to = r + 1 === n ? 0 : r + 1;
    const sent = clock[r]!;
    const m = bytes[bytesAt + r]!;
    let t = sent;
    for (let h = hopStart[r]!; h < hopStart[r + 1]!; h++) {
      const start = Math.max(t, busy[h]!);
      const end = start + (m * 8) / bw[h]!;
      busy[h] = end;
      t = end + lat[h]!;
    }
    const late = clock[to]! - sent;
    const arrival = t + (late > 0 ? late : 0);
    if (t > next[r]!) next[r] = t;
    if (arrival > next[to]!) next[to] = arrival;
  }
}

/** Each rank's last join (its finish); every round's joins into `keep` when given. */
function maxMinAlone(routes: Link[][], n: number, schedule: Schedule, elementBytes: number, entry: Float64Array, keep: Float64Array | null): Float64Array | null {
  const rate = new Float64Array(n);
  const lat = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let b = Infinity;
    let a = 0;
    for (const l of routes[r]!) {
      b = Math.min(b, l.bandwidth);
      a += l.latency;
    }
    rate[r] = b;
    lat[r] = a;
  }
  const rounds = new RingRounds(schedule, elementBytes, rate);
  const R = rounds.count;
  const bytes = rounds.bytes;
  const ser = rounds.ser;
  // prev and cur: when each rank's rounds s - 1 and s ended (its clock join flow's arrival);
  // before round 0, its entry. A join is never earlier than the entry (it starts from it), so
  // the latest of entries and previous joins is the latest of previous joins.
  let prev = Float64Array.from(entry);
  let cur = new Float64Array(n);
  for (let s = 0; s < R; s++) {
    if (!rounds.read(s)) return null;
    maxMinRound(n, prev, cur, bytes, rounds.bytesAt, ser, rounds.serAt, lat);
    if (keep) keep.set(cur, s * n);
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev;
}

/**
 * One max-min round of flows alone on their links: rank r's flow starts when both ends have
 * joined the previous round (`prev`), runs 8m / rate (`ser`), and arrives the route's latency
 * later. A rank joins (`cur`) at the latest of its previous join, its send's and its receive's
 * arrivals: one pass in rank order, rank 0's receive (from rank n-1) last.
 */
function maxMinRound(n: number, prev: Float64Array, cur: Float64Array, bytes: Float64Array, bytesAt: number, ser: Float64Array, serAt: number, lat: Float64Array): void {
  const p0 = prev[0]!;
  const p1 = prev[1]!;
  const ready0 = p0 > p1 ? p0 : p1;
  const out0 = (bytes[bytesAt]! <= 0 ? ready0 : ready0 + ser[serAt]!) + lat[0]!;
  let incoming = out0;
  for (let r = 1; r < n; r++) {
    const a = prev[r]!;
    const b = prev[r + 1 === n ? 0 : r + 1]!;
    const ready = a > b ? a : b;
    const out = (bytes[bytesAt + r]! <= 0 ? ready : ready + ser[serAt + r]!) + lat[r]!;
    let j = a;
    if (out > j) j = out;
    if (incoming > j) j = incoming;
    cur[r] = j;
    incoming = out;
  }
  let j0 = p0;
  if (out0 > j0) j0 = out0;
  if (incoming > j0) j0 = incoming;
  cur[0] = j0;
}
