import type { TimelineEvent } from '../metrics/aggregator.ts';
import type { Topology } from '../../topologies/topology.ts';
import type { FaultSchedule } from '../sim/faults.ts';
import { capacityBits } from '../sim/link-capacity.ts';

/** One link's traffic over a run, from the messages really sent. */
export interface LinkTraffic {
  link: string;
  /** Payload bytes that crossed the link. */
  bytes: number;
  /**
   * Busy fraction: the bits carried over the bits the link could carry in the run's simulated
   * time, i.e. over the integral of its real bandwidth (traces and link faults included;
   * src/sim/link-capacity.ts): 8 bytes / (bandwidth x simTime) on a link that never changes.
   */
  busy: number;
  /** Bytes per time bin (spread evenly over the message's send-to-arrival span, at its send time when it has no arrival). */
  perBin: number[];
}

export interface RunLinkTraffic {
  /** Bin edges' width in simulated seconds (bin i covers [i w, (i+1) w)). */
  binSec: number;
  links: LinkTraffic[];
}

/**
 * Per-link traffic of a run for report.html: every message the workers recorded (the timeline's
 * `transfers`, runs of at most 64 workers) and the parameter server's sends, put on every link of
 * its route, summed per link and per time bin (one bin per step, 10 to 60 bins, unless `bins` is
 * given). Returns the `top` links by bytes (ties by link order), or null when nothing was
 * recorded. Pure: the caller passes what the run wrote.
 */
export function runLinkTraffic(
  topology: Topology,
  events: readonly TimelineEvent[],
  serverSends: readonly (readonly [number, number, number, number | null])[],
  simTimeSec: number,
  binCount?: number,
  top = 8,
  /** The run's fault timeline: link faults change what a link can carry (traces come with the topology). */
  faults: FaultSchedule | null = null,
): RunLinkTraffic | null {
  const bins = binCount ?? Math.min(60, Math.max(10, new Set(events.map((e) => e.step)).size));
  const index = new Map(topology.links.map((l, i) => [l, i]));
  const routes = new Map<number, number[]>();
  const bytes = new Float64Array(topology.links.length);
  const perBin = topology.links.map(() => new Float64Array(bins));
  const span = simTimeSec > 0 ? simTimeSec : 1;
  const binSec = span / bins;
  let any = false;
  const binOf = (t: number) => Math.min(bins - 1, Math.max(0, Math.floor(t / binSec)));
  const add = (from: number, to: number, b: number, send: number, arrival: number | null) => {
    const key = from * 1048576 + to;
    let route = routes.get(key);
    if (!route) routes.set(key, (route = topology.route(from, to).map((l) => index.get(l) ?? -1).filter((i) => i >= 0)));
    const until = arrival !== null && Number.isFinite(arrival) && arrival > send ? arrival : send;
    const first = binOf(send);
    const last = binOf(until);
    for (const i of route) {
      bytes[i] += b;
      any = true;
      // Spread over the bins the transfer spans, in proportion to its time in each.
      if (first === last) perBin[i]![first] += b;
      else for (let k = first; k <= last; k++) perBin[i]![k] += (b * (Math.min(until, (k + 1) * binSec) - Math.max(send, k * binSec))) / (until - send);
    }
  };
  for (const e of events) for (const [to, b, send, arrival] of e.transfers ?? []) add(e.worker, to, b, send, arrival);
  for (const [to, b, send, arrival] of serverSends) if (to < topology.workers) add(topology.workers, to, b, send, arrival);
  if (!any) return null;
  const links = topology.links
    .map((l, i) => ({ l, link: l.id, bytes: bytes[i]!, perBin: Array.from(perBin[i]!), i }))
    .filter((l) => l.bytes > 0)
    .map(({ l, ...x }) => {
      const capacity = capacityBits(l, faults, 0, span);
      return { ...x, busy: capacity > 0 ? (8 * x.bytes) / capacity : 0 };
    })
    .sort((x, y) => y.bytes - x.bytes || x.i - y.i)
    .slice(0, top)
    .map(({ i: _i, link, bytes: b, busy, perBin: p }) => ({ link, bytes: b, busy, perBin: p }));
  return { binSec, links };
}
