import type { Link, Topology } from '../../topologies/index.ts';
import type { FaultSchedule } from './faults.ts';
import { simulateFlows, type FlowRequest } from './flow-sim.ts';
import { bandwidthChanges, realBandwidthAt } from './link-capacity.ts';

export interface LinkUsage {
  link: string;
  /** Bits carried. */
  bits: number;
  /** Utilization (0..1) as a step function: from times[i] until times[i+1] it is value[i]. */
  times: number[];
  value: number[];
}

/**
 * Max-min simulation of `flows` recording each link's load over virtual time; returns the
 * `top` busiest links (longest time at full use, the integral of the utilization; ties by link
 * order), utilization = load / the link's real bandwidth at that time (its trace and, when
 * given, the link faults the simulation applies: src/sim/link-capacity.ts).
 */
export function linkUtilization(topology: Topology, flows: readonly FlowRequest[], top = 4, faults: FaultSchedule | null = null): LinkUsage[] {
  const rate = new Map<number, number>();
  const events: { t: number; f: number; r: number }[] = [];
  simulateFlows(topology, flows, 'max-min', (t, f, r) => events.push({ t, f, r }), faults);
  const L = topology.links.length;
  const index = new Map(topology.links.map((l, k) => [l, k]));
  const routeOf = new Map<number, number[]>();
  const route = (f: number) => {
    let r = routeOf.get(f);
    if (!r) {
      r = topology.route(flows[f]!.from, flows[f]!.to).map((l) => index.get(l)!);
      routeOf.set(f, r);
    }
    return r;
  };
  const load = new Float64Array(L);
  const bits = new Float64Array(L);
  // Each link's load as a step function (bits/s from times[i] until times[i + 1]).
  const loads: { times: number[]; value: number[] }[] = Array.from({ length: L }, () => ({ times: [0], value: [0] }));
  let last = 0;
  for (let i = 0; i < events.length; ) {
    const t = events[i]!.t;
    for (let k = 0; k < L; k++) bits[k] += load[k]! * (t - last);
    last = t;
    const touched = new Set<number>();
    for (; i < events.length && events[i]!.t === t; i++) {
      const { f, r } = events[i]!;
      const before = rate.get(f) ?? 0;
      rate.set(f, r);
      for (const l of route(f)) {
        load[l] += r - before;
        touched.add(l);
      }
    }
    for (const l of touched) {
      const s = loads[l]!;
      const v = Math.max(0, load[l]!);
      if (s.times[s.times.length - 1] === t) s.value[s.value.length - 1] = v;
      else {
        s.times.push(t);
        s.value.push(v);
      }
    }
  }
  return topology.links
    .map((l, k) => ({ link: l.id, bits: bits[k]!, ...utilization(l, loads[k]!, faults) }))
    .sort((x, y) => y.busy - x.busy)
    .map(({ busy: _b, ...u }) => u)
    .slice(0, top);
}

/**
 * A link's load over its real bandwidth, as a step function: a point wherever the load or the
 * bandwidth changes (a trace breakpoint or fault boundary inside a stretch of constant load);
 * `busy` is its integral (seconds at full use).
 */
function utilization(link: Link, load: { times: number[]; value: number[] }, faults: FaultSchedule | null): { times: number[]; value: number[]; busy: number } {
  const changes = bandwidthChanges(link, faults);
  const times: number[] = [];
  const value: number[] = [];
  let busy = 0;
  const push = (t: number, v: number) => {
    if (times.length > 0 && times[times.length - 1] === t) value[value.length - 1] = v;
    else {
      times.push(t);
      value.push(v);
    }
  };
  let c = 0;
  for (let i = 0; i < load.times.length; i++) {
    const from = load.times[i]!;
    const until = i + 1 < load.times.length ? load.times[i + 1]! : Infinity;
    const v = load.value[i]!;
    while (c < changes.length && changes[c]! <= from) c++;
    let t = from;
    for (;;) {
      const b = realBandwidthAt(link, faults, t);
      const u = v === 0 ? 0 : b > 0 ? v / b : 0;
      push(t, u);
      // A stretch of no load ends the curve's need for bandwidth points.
      const next = v !== 0 && c < changes.length && changes[c]! < until ? changes[c++]! : until;
      if (Number.isFinite(next)) busy += u * (next - t);
      if (next === until) break;
      t = next;
    }
  }
  return { times, value, busy };
}
