import type { Link } from '../../topologies/index.ts';
import { bandwidthAt, latencyAt } from '../../topologies/trace.ts';
import type { FaultSchedule } from './faults.ts';

/**
 * A link's real bandwidth over virtual time: a link fault in force sets it, else its trace, else
 * its configured value (the rule the flow simulation follows). Piecewise constant, so what it
 * can carry over a window is an exact sum. Partitions are not a bandwidth: they stall the flows
 * they cut, and the link stays there for the others.
 */
export function realBandwidthAt(link: Link, faults: FaultSchedule | null, t: number): number {
  return faults?.link(link.id, t)?.bandwidth ?? bandwidthAt(link, t);
}

/** A link's real latency at t: a link fault's in force, else its trace's, else its configured value. */
export function realLatencyAt(link: Link, faults: FaultSchedule | null, t: number): number {
  return faults?.link(link.id, t)?.latency ?? latencyAt(link, t);
}

/** The times at which the link's real bandwidth may change (trace breakpoints, its faults' starts and ends), sorted, distinct. */
export function bandwidthChanges(link: Link, faults: FaultSchedule | null): number[] {
  const times = new Set<number>(link.trace?.times ?? []);
  for (const f of faults?.faults ?? []) {
    if (f.kind !== 'link' || f.link !== link.id || f.bandwidth === null) continue;
    times.add(f.at);
    if (f.for !== null) times.add(f.at + f.for);
  }
  return [...times].sort((a, b) => a - b);
}

/** Bits the link can carry over [t0, t1]: the integral of its real bandwidth (0 for an empty window). */
export function capacityBits(link: Link, faults: FaultSchedule | null, t0: number, t1: number): number {
  if (!(t1 > t0)) return 0;
  let bits = 0;
  let from = t0;
  for (const c of bandwidthChanges(link, faults)) {
    if (c <= from) continue;
    if (c >= t1) break;
    bits += realBandwidthAt(link, faults, from) * (c - from);
    from = c;
  }
  return bits + realBandwidthAt(link, faults, from) * (t1 - from);
}
