import { writeFileSync } from 'node:fs';
import type { TimelineEvent } from '../metrics/aggregator.ts';

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
 * bars would otherwise overlap the worker's own. Times are simulated seconds shown as seconds.
 */
export function chromeTrace(events: TimelineEvent[], workers: number, name: string): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
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
  }
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { source: 'dtemu timeline.jsonl', timeUnit: 'simulated microseconds' } };
}

export function writeChromeTrace(file: string, events: TimelineEvent[], workers: number, name: string): void {
  writeFileSync(file, JSON.stringify(chromeTrace(events, workers, name)));
}
