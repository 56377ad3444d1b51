import type { Schedule, Transfer } from '../../comm/collectives/schedules/schedule.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import type { FaultSchedule } from './faults.ts';
import type { FlowRequest } from './flow-sim.ts';
import { NetworkModel } from './network-model.ts';
import type { CollectiveTiming } from './collective-time.ts';

/**
 * Eager schedules (`Schedule.eager`: the all-gathers of variable payloads and the gossip rounds
 * that used to be timed message by message) as what the per-message path does, so that where no
 * two senders share a link the flow simulation gives its very numbers:
 *
 * - a rank sends round k's transfers at its clock: its entry, or the arrival of the last thing
 *   it received in rounds before k (it does not wait for its receiver, and sending does not
 *   advance its clock);
 * - a sender's transfers leave one after another on the links their routes share (NetworkModel
 *   keeps link occupancy per sender): each waits for the end, not the arrival, of the sender's
 *   previous transfer on each of its links (`FlowRequest.afterEnd`);
 * - a rank leaves at the latest of its entry and its receives' arrivals.
 *
 * Senders that do share a link (an oversubscribed uplink, incast on a NIC, a WAN gateway) share
 * it max-min fairly instead of each ignoring the others.
 */

/** Bytes of a transfer: its own size, or its element range's. */
export function transferBytes(t: Transfer, elementBytes: number): number {
  return t.bytes ?? (t.end - t.start) * elementBytes;
}

/**
 * The flows of an eager schedule, in the shape of scheduleToFlows: per rank and per round with
 * receives a zero-byte self flow (its clock) that waits for them and for the previous one
 * (`clock[r]`: the last, -1 if it receives nothing; `joins[r]`: [round, flow] of each); `sends[r]`:
 * the flows of rank r's transfers in the order it sends them.
 */
export function eagerScheduleToFlows(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, elementBytes = 4): { flows: FlowRequest[]; clock: Int32Array; transfers: number; joins: [number, number][][]; sends: number[][] } {
  const n = schedule.n;
  const joins: [number, number][][] = Array.from({ length: n }, () => []);
  const sends: number[][] = Array.from({ length: n }, () => []);
  const flows: FlowRequest[] = [];
  const clock = new Int32Array(n).fill(-1);
  // Per sender: the last of its flows on each link (the link's index in `links`).
  const lastOnLink = new Map<number, number>();
  const linkIndex = new Map<Link, number>(topology.links.map((l, i) => [l, i]));
  const routeOf = new Map<number, number[]>();
  const linksOf = (from: number, to: number): number[] => {
    const key = from * n + to;
    let r = routeOf.get(key);
    if (!r) {
      r = topology.route(from, to).map((l) => {
        let i = linkIndex.get(l);
        if (i === undefined) {
          i = linkIndex.size;
          linkIndex.set(l, i);
        }
        return i;
      });
      routeOf.set(key, r);
    }
    return r;
  };
  let transfers = 0;
  const received = new Map<number, number[]>();
  schedule.rounds.forEach((round, k) => {
    received.clear();
    for (const t of round.transfers) {
      const f = flows.length;
      const deps = clock[t.from]! >= 0 ? [clock[t.from]!] : [];
      const afterEnd: number[] = [];
      for (const l of linksOf(t.from, t.to)) {
        const key = l * n + t.from;
        const prev = lastOnLink.get(key);
        if (prev !== undefined && !afterEnd.includes(prev)) afterEnd.push(prev);
        lastOnLink.set(key, f);
      }
      flows.push({ from: t.from, to: t.to, bytes: transferBytes(t, elementBytes), ready: entryOf(t.from), deps, ...(afterEnd.length > 0 ? { afterEnd } : {}) });
      sends[t.from]!.push(f);
      transfers++;
      let r = received.get(t.to);
      if (!r) {
        r = [];
        received.set(t.to, r);
      }
      r.push(f);
    }
    // After every send of the round is issued, the receivers' clocks join their arrivals (the
    // next round's sends wait for them).
    for (const [r, deps] of received) {
      if (clock[r]! >= 0) deps.push(clock[r]!);
      clock[r] = flows.length;
      joins[r]!.push([k, flows.length]);
      flows.push({ from: r, to: r, bytes: 0, ready: entryOf(r), deps });
    }
  });
  return { flows, clock, transfers, joins, sends };
}

/**
 * Per rank, [send, arrival] of each of its transfers in the order it sends them: the send is its
 * clock when it sends (entry, or its previous receives' arrival: what the per-message path
 * records), for the timeline's transfers and trace.json's link tracks.
 */
export function sentTimes(flows: readonly FlowRequest[], sends: readonly (readonly number[])[], arrival: Float64Array): (rank: number) => [number, number][] {
  return (rank) =>
    sends[rank]!.map((f) => {
      const fl = flows[f]!;
      const clock = fl.deps.length > 0 ? Math.max(fl.ready, arrival[fl.deps[0]!]!) : fl.ready;
      return [clock, arrival[f]!];
    });
}

/**
 * `fifo`: exactly what the per-message path does over NetworkModel (ringAllGather,
 * recursiveDoublingAllGather, the gossip exchange): each send timed at its sender's clock, in
 * round order, a receiver's clock the latest of itself and its receives' arrivals.
 */
export function replayEagerMessages(topology: Topology, schedule: Schedule, entryOf: (r: number) => number, elementBytes: number, faults: FaultSchedule | null): CollectiveTiming {
  const n = schedule.n;
  const model = new NetworkModel(topology, faults);
  const clock = Float64Array.from({ length: n }, (_, r) => entryOf(r));
  const next = new Float64Array(n);
  const sent: [number, number][][] = Array.from({ length: n }, () => []);
  let transfers = 0;
  for (const round of schedule.rounds) {
    next.set(clock);
    for (const t of round.transfers) {
      const arrival = model.transmit(t.from, t.to, transferBytes(t, elementBytes), clock[t.from]!);
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
