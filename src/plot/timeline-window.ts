import type { TimelineEvent } from '../metrics/aggregator.ts';

/** A stretch of virtual time in which a worker was down (crashed, not yet rejoined). */
export interface DownInterval {
  worker: number;
  start: number;
  end: number;
}

/**
 * The steps a Gantt chart shows (`span` of them: from the start, or from 10 steps before the
 * first crash if there is one) and the intervals workers were down within them: from a crashed
 * worker's last step (or the start of the run) to its replacement's first (or the end of the run).
 */
export function timelineWindow(events: TimelineEvent[], workers: number, span = 60): { from: number; to: number; shown: TimelineEvent[]; down: DownInterval[] } {
  const byWorker = new Map<number, TimelineEvent[]>();
  let lastStep = 0;
  let runEnd = 0;
  for (const e of events) {
    let list = byWorker.get(e.worker);
    if (!list) byWorker.set(e.worker, (list = []));
    list.push(e);
    lastStep = Math.max(lastStep, e.step);
    runEnd = Math.max(runEnd, e.end);
  }
  const gaps: (DownInterval & { step: number })[] = [];
  for (let worker = 0; worker < workers; worker++) {
    const list = byWorker.get(worker) ?? [];
    if (list.length === 0) {
      if (lastStep > 0) gaps.push({ worker, start: 0, end: runEnd, step: 1 });
      continue;
    }
    list.sort((a, b) => a.step - b.step);
    if (list[0]!.step > 1) gaps.push({ worker, start: 0, end: list[0]!.start, step: 1 });
    for (let i = 0; i < list.length; i++) {
      const next = list[i + 1];
      if (next && next.step > list[i]!.step + 1) gaps.push({ worker, start: list[i]!.end, end: next.start, step: list[i]!.step + 1 });
      if (!next && list[i]!.step < lastStep) gaps.push({ worker, start: list[i]!.end, end: runEnd, step: list[i]!.step + 1 });
    }
  }
  const firstGap = Math.min(...gaps.map((g) => g.step));
  // Around the first crash, but never past the end (a late crash still shows `span` steps).
  const from = Number.isFinite(firstGap) ? Math.max(1, Math.min(firstGap - 10, lastStep - span + 1)) : 1;
  const to = from + span - 1;
  const shown = events.filter((e) => e.step >= from && e.step <= to);
  const t0 = Math.min(...shown.map((e) => e.start));
  const t1 = Math.max(...shown.map((e) => e.end));
  const down = gaps
    .map(({ worker, start, end }) => ({ worker, start: Math.max(start, t0), end: Math.min(end, t1) }))
    .filter((g) => g.end > g.start);
  return { from, to, shown, down };
}
