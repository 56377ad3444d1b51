import type { Schedule } from '../../comm/collectives/schedules/schedule.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import type { CollectiveTiming } from './collective-time.ts';
import { transferBytes } from './eager-schedule.ts';
import { compactSizedRingOf } from '../../comm/collectives/schedules/sized.ts';
import type { CompactSizedRing } from '../../comm/collectives/schedules/schedule.ts';

/**
 * Max-min timing of an eager (sized) schedule in which no link is used by two different senders
 * and no link carries a trace, without the flow simulation: a ring all-gather on a switch or a
 * tree, a gossip round on a torus or a graph (neighbours are direct links). A sender's own
 * transfers that share a link leave one after another (eager-schedule.ts's afterEnd), so no two
 * flows are ever on a link at once: each runs alone at its route's smallest bandwidth, and the
 * simulation reduces to clock arithmetic done with the very operations flow-sim.ts performs,
 * transfer by transfer in schedule order (every dependency points backwards in it):
 *
 *   start = max(sender's clock, end of its last transfer on each link of the route)
 *   end = start + 8m / min(B)          (progressive filling of one flow: cap / 1)
 *   arrival = end + the route's summed latency
 *   clock of a receiver = max(itself, arrival)   (after every send of the round)
 *
 * A 256-rank ring all-gather (65,280 transfers) or gossip round then costs a pass over its
 * transfers instead of a simulation of as many events. Returns null when some link has two
 * senders or a trace (the caller simulates); test/message-units.test.ts checks it against the
 * simulation bit for bit.
 */
export function timeEagerAlone(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, elementBytes: number): CollectiveTiming | null {
  const n = schedule.n;
  if (!schedule.eager || n < 2) return null;
  const ring = compactSizedRingOf(schedule);
  if (ring) return timeSizedRingAlone(topology, ring, entryOf);
  const linkIndex = new Map<Link, number>();
  const owner: number[] = [];
  const routes = new Map<number, { links: Int32Array; rate: number; latency: number }>();
  const routeOf = (from: number, to: number) => {
    const key = from * n + to;
    let r = routes.get(key);
    if (!r) {
      const path = topology.route(from, to);
      let rate = Infinity;
      let latency = 0;
      for (const l of path) {
        if (l.bandwidth < rate) rate = l.bandwidth;
        latency += l.latency;
      }
      r = { links: Int32Array.from(path, (l) => {
        let i = linkIndex.get(l);
        if (i === undefined) {
          i = linkIndex.size;
          linkIndex.set(l, i);
          owner.push(l.trace ? -2 : -1);
        }
        return i;
      }), rate, latency };
      routes.set(key, r);
    }
    return r;
  };
  // Every link has one sender (or none) and no trace; every route has a link.
  for (const round of schedule.rounds) {
    for (const t of round.transfers) {
      const r = routeOf(t.from, t.to);
      if (r.links.length === 0) return null;
      for (const l of r.links) {
        const o = owner[l]!;
        if (o === -2 || (o >= 0 && o !== t.from)) return null;
        owner[l] = t.from;
      }
    }
  }
  const clock = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const next = new Float64Array(n);
  const free = new Float64Array(linkIndex.size).fill(-Infinity);
  const sent: [number, number][][] = Array.from({ length: n }, () => []);
  let transfers = 0;
  for (const round of schedule.rounds) {
    next.set(clock);
    for (const t of round.transfers) {
      const r = routeOf(t.from, t.to);
      let start = clock[t.from]!;
      for (const l of r.links) if (free[l]! > start) start = free[l]!;
      const end = start + (transferBytes(t, elementBytes) * 8) / r.rate;
      for (const l of r.links) free[l] = end;
      const arrival = end + r.latency;
      sent[t.from]!.push([clock[t.from]!, arrival]);
      if (arrival > next[t.to]!) next[t.to] = arrival;
      transfers++;
    }
    clock.set(next);
  }
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (clock[r]! > makespan) makespan = clock[r]!;
  return { finish: clock, makespan, transfers, sent: (rank) => sent[rank]! };
}

/**
 * timeEagerAlone for a ring all-gather in its compact form (its sizes), without a transfer object:
 * rank r only ever sends to r + 1, so where no two routes r -> r + 1 share a link (and none has
 * a trace or no link), every link of route r is free when r's previous transfer ended, and each
 * transfer is the same operations as above: start = max(clock[r], that end); end = start +
 * (bytes x 8) / rate; arrival = end + latency. O(n^2) arithmetic on typed arrays; [send, arrival]
 * of every transfer kept in two typed arrays (round s, rank r at s n + r).
 */
function timeSizedRingAlone(topology: Topology, ring: CompactSizedRing, entryOf: (r: number) => number): CollectiveTiming | null {
  const { n, bytes } = ring;
  const rate = new Float64Array(n);
  const latency = new Float64Array(n);
  const owner = new Map<Link, number>();
  for (let r = 0; r < n; r++) {
    const path = topology.route(r, (r + 1) % n);
    if (path.length === 0) return null;
    let b = Infinity;
    let a = 0;
    for (const l of path) {
      if (l.trace) return null;
      const o = owner.get(l);
      if (o !== undefined && o !== r) return null;
      owner.set(l, r);
      if (l.bandwidth < b) b = l.bandwidth;
      a += l.latency;
    }
    rate[r] = b;
    latency[r] = a;
  }
  const clock = new Float64Array(n);
  for (let r = 0; r < n; r++) clock[r] = entryOf(r);
  const next = new Float64Array(n);
  const free = new Float64Array(n).fill(-Infinity);
  const rounds = n - 1;
  const sendAt = new Float64Array(rounds * n);
  const arriveAt = new Float64Array(rounds * n);
  for (let s = 0; s < rounds; s++) {
    next.set(clock);
    for (let r = 0; r < n; r++) {
      let start = clock[r]!;
      if (free[r]! > start) start = free[r]!;
      let src = (r - s) % n;
      if (src < 0) src += n;
      const end = start + (bytes[src]! * 8) / rate[r]!;
      free[r] = end;
      const arrival = end + latency[r]!;
      sendAt[s * n + r] = clock[r]!;
      arriveAt[s * n + r] = arrival;
      const to = r + 1 === n ? 0 : r + 1;
      if (arrival > next[to]!) next[to] = arrival;
    }
    clock.set(next);
  }
  let makespan = -Infinity;
  for (let r = 0; r < n; r++) if (clock[r]! > makespan) makespan = clock[r]!;
  const sent = (rank: number): [number, number][] => Array.from({ length: rounds }, (_, s) => [sendAt[s * n + rank]!, arriveAt[s * n + rank]!]);
  return { finish: clock, makespan, transfers: rounds * n, sent };
}
