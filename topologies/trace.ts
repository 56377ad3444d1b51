import type { Link } from './topology.ts';

/**
 * A measured bandwidth (and optionally latency) trace of a link, replayed piecewise-constant in
 * virtual time: from times[i] until times[i+1] the link has bandwidth[i] (bits/s) and, when
 * given, latency[i] (s). Before times[0] the link keeps its configured values. Times strictly
 * increase (checked where the trace is read).
 */
export interface LinkTrace {
  times: number[];
  bandwidth: number[];
  latency: (number | null)[];
}

/** Index of the trace segment in force at time t, or -1 before the first. */
function segment(tr: LinkTrace, t: number): number {
  let lo = 0;
  let hi = tr.times.length - 1;
  if (tr.times.length === 0 || t < tr.times[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tr.times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function bandwidthAt(link: Link, t: number): number {
  const tr = link.trace;
  if (!tr) return link.bandwidth;
  const i = segment(tr, t);
  return i < 0 ? link.bandwidth : tr.bandwidth[i]!;
}

export function latencyAt(link: Link, t: number): number {
  const tr = link.trace;
  if (!tr) return link.latency;
  const i = segment(tr, t);
  return i < 0 ? link.latency : (tr.latency[i] ?? link.latency);
}
