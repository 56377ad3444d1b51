import { writeFileSync } from 'node:fs';
import type { TimelineEvent } from '../metrics/aggregator.ts';
import type { Topology } from '../../topologies/topology.ts';

/** One complete event of the Chrome trace event format (Perfetto, chrome://tracing). */
export interface TraceEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  /** Microseconds of simulated time. */
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

const US = 1e6;

/**
 * The run's virtual timeline as a Chrome trace: one track (tid) per worker with an event per
 * non-empty interval of each step (compute, delay / stall, communication), and one track per
 * worker for its transfers still in flight while it computes (Streaming DiLoCo's overlap), whose
 * bars would otherwise overlap the worker's own; a Byzantine worker's attacked steps are slices
 * `byzantine: <attack>` (category fault) around that step's own. Times are simulated seconds shown as seconds.
 *
 * With the run's topology, also one track per link ("link 0->1", in the topology's link order):
 * every message a worker sent (the timeline's `transfers`, recorded for runs of at most 64
 * workers) is an event on each link of its route, from its virtual send to its virtual arrival
 * (the whole route's span; a message whose receiver times a shared link has no arrival and is
 * drawn with zero duration), args { from, to, bytes, step }. Messages the parameter server sends
 * are not in the timeline (it reports no steps), so server-to-worker links stay empty.
 */
export function chromeTrace(
  events: TimelineEvent[],
  workers: number,
  name: string,
  topology?: Topology,
  /** The master's sends (it is rank `workers`): [to, bytes, send, arrival], as in TimelineEvent.transfers. */
  serverSends: readonly (readonly [number, number, number, number | null])[] = [],
): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const out: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: `${name} (simulated time)` } }];
  const inFlightTid = (w: number) => workers + w;
  for (let w = 0; w < workers; w++) {
    out.push({ name: 'thread_name', ph: 'M', pid: 1, tid: w, args: { name: `worker ${w}` } });
    out.push({ name: 'thread_sort_index', ph: 'M', pid: 1, tid: w, args: { sort_index: 2 * w } });
  }
  const inFlightWorkers = new Set(events.filter((e) => (e.background ?? []).length > 0).map((e) => e.worker));
  for (const w of [...inFlightWorkers].sort((a, b) => a - b)) {
    out.push({ name: 'thread_name', ph: 'M', pid: 1, tid: inFlightTid(w), args: { name: `worker ${w}: in flight` } });
    out.push({ name: 'thread_sort_index', ph: 'M', pid: 1, tid: inFlightTid(w), args: { sort_index: 2 * w + 1 } });
  }
  const interval = (label: string, cat: string, tid: number, step: number, a: number, b: number) => {
    if (b > a) out.push({ name: label, cat, ph: 'X', pid: 1, tid, ts: a * US, dur: (b - a) * US, args: { step } });
  };
  for (const e of events) {
    interval('compute', 'compute', e.worker, e.step, e.start, e.computeEnd);
    interval('delay / stall', 'delay', e.worker, e.step, e.computeEnd, e.delayEnd);
    interval('communication', 'comm', e.worker, e.step, e.delayEnd, e.end);
    for (const [a, b] of e.background ?? []) interval('transfer in flight', 'in-flight', inFlightTid(e.worker), e.step, a, b);
    // A Byzantine worker's step (fault kind byzantine): a slice around the step's own slices.
    if (e.byzantine) interval(`byzantine: ${e.byzantine}`, 'fault', e.worker, e.step, e.start, e.end);
  }
  if (topology) {
    const linkIndex = new Map(topology.links.map((l, i) => [l, i]));
    const used = new Set<number>();
    const linkEvents: TraceEvent[] = [];
    const routes = new Map<string, number[]>();
    const linkTid = (i: number) => 2 * workers + i;
    const onLinks = (from: number, to: number, bytes: number, send: number, arrival: number | null, step: number | null) => {
      const key = `${from}:${to}`;
      let route = routes.get(key);
      if (!route) routes.set(key, (route = topology.route(from, to).map((l) => linkIndex.get(l) ?? -1).filter((i) => i >= 0)));
      const dur = arrival === null || Number.isNaN(arrival) ? 0 : Math.max(0, arrival - send);
      for (const i of route) {
        used.add(i);
        linkEvents.push({ name: 'transfer', cat: 'link', ph: 'X', pid: 1, tid: linkTid(i), ts: send * US, dur: dur * US, args: { from, to, bytes, ...(step === null ? {} : { step }) } });
      }
    };
    for (const e of events) for (const [to, bytes, send, arrival] of e.transfers ?? []) onLinks(e.worker, to, bytes, send, arrival, e.step);
    // The master's replies carry no step of their own.
    for (const [to, bytes, send, arrival] of serverSends) if (to < workers) onLinks(workers, to, bytes, send, arrival, null);
    for (const i of [...used].sort((a, b) => a - b)) {
      out.push({ name: 'thread_name', ph: 'M', pid: 1, tid: linkTid(i), args: { name: `link ${topology.links[i]!.id}` } });
      out.push({ name: 'thread_sort_index', ph: 'M', pid: 1, tid: linkTid(i), args: { sort_index: 2 * workers + i } });
    }
    // A loop, not push(...linkEvents): a long run has more link events than the call stack has argument slots.
    for (const e of linkEvents) out.push(e);
  }
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { source: 'dtemu timeline.jsonl', timeUnit: 'simulated microseconds' } };
}

export function writeChromeTrace(
  file: string,
  events: TimelineEvent[],
  workers: number,
  name: string,
  topology?: Topology,
  serverSends: readonly (readonly [number, number, number, number | null])[] = [],
): void {
  writeFileSync(file, JSON.stringify(chromeTrace(events, workers, name, topology, serverSends)));
}
