import type { Topology } from '../../topologies/index.ts';
import { simulateFlows, type FlowRequest } from './flow-sim.ts';

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
 * `top` busiest links (longest time-equivalent at full rate, bits / bandwidth; ties by link
 * order), utilization = load / bandwidth.
 */
export function linkUtilization(topology: Topology, flows: readonly FlowRequest[], top = 4): LinkUsage[] {
  const rate = new Map<number, number>();
  const events: { t: number; f: number; r: number }[] = [];
  simulateFlows(topology, flows, 'max-min', (t, f, r) => events.push({ t, f, r }));
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
  const series: { times: number[]; value: number[] }[] = Array.from({ length: L }, () => ({ times: [0], value: [0] }));
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
      const s = series[l]!;
      const u = Math.max(0, load[l]! / topology.links[l]!.bandwidth);
      if (s.times[s.times.length - 1] === t) s.value[s.value.length - 1] = u;
      else {
        s.times.push(t);
        s.value.push(u);
      }
    }
  }
  return topology.links
    .map((l, k) => ({ link: l.id, bits: bits[k]!, busy: bits[k]! / l.bandwidth, ...series[k]! }))
    .sort((x, y) => y.busy - x.busy)
    .map(({ busy: _b, ...u }) => u)
    .slice(0, top);
}
