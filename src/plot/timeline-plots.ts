import type { ChartConfiguration } from 'chart.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimelineEvent, WorkerBreakdown } from '../metrics/aggregator.ts';
import { renderChart } from './chart-output.ts';
import { timelineWindow } from './timeline-window.ts';

const COLORS = { compute: '#2ca02c', delay: '#d62728', comm: '#1f77b4', background: '#9ecae1', down: '#404040', wait: '#c7c7c7' };

function render(config: ChartConfiguration<'bar'>, width: number, height: number): Buffer {
  return renderChart(config, width, height, 'png');
}

/**
 * timeline.jsonl's events; with `workers`, only those of workers below it, found without
 * parsing the others (a 10,000-worker simulation writes 10^6 lines and draws 64 workers). The
 * aggregator writes `worker` as a top-level key ahead of any nested array, so the first
 * `"worker":` of a line is the event's.
 */
export function readTimeline(runDir: string, workers = Infinity): TimelineEvent[] {
  const lines = readFileSync(join(runDir, 'timeline.jsonl'), 'utf8').split('\n');
  const out: TimelineEvent[] = [];
  for (const l of lines) {
    if (l.length === 0) continue;
    if (workers !== Infinity) {
      const at = l.indexOf('"worker":');
      if (at >= 0 && Number.parseInt(l.slice(at + 9, at + 20), 10) >= workers) continue;
    }
    out.push(JSON.parse(l) as TimelineEvent);
  }
  return out;
}

/**
 * Gantt chart of every worker over virtual time: computing (green), injected delay/stall (red),
 * communicating incl. waiting inside collectives (blue), transfers in flight while computing
 * (thin light blue), down after a crash (dark grey), steps in which a Byzantine worker sent its
 * attack (a thin purple bar over the step, one legend entry per attack); gaps are idle time. `maxSteps` keeps
 * long runs legible (timelineWindow picks which steps are drawn).
 */
export function plotTimeline(events: TimelineEvent[], workers: number, out: string, name: string, maxSteps = 60): void {
  const { from, to, shown, down } = timelineWindow(events, workers, maxSteps);
  const title = `${name}: worker timeline, steps ${from}-${Math.min(to, Math.max(...shown.map((e) => e.step)))}`;
  const label = (w: number) => `worker ${w}`;
  const flightLabel = (w: number) => `worker ${w} in flight`;
  const seg = (pick: (e: TimelineEvent) => [number, number]) =>
    shown.map((e) => ({ x: pick(e), y: label(e.worker) })).filter((p) => p.x[1] > p.x[0]);
  // Transfers that run on while the worker computes (Streaming DiLoCo's overlap), on a row of
  // their own under the worker's: drawn on the worker's row they would hide behind its compute.
  const inFlight = shown.flatMap((e) => (e.background ?? []).map((x) => ({ x, y: flightLabel(e.worker) })));
  const flying = new Set(shown.filter((e) => (e.background ?? []).length > 0).map((e) => e.worker));
  const rows = Array.from({ length: workers }, (_, w) => (flying.has(w) ? [label(w), flightLabel(w)] : [label(w)])).flat();
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: rows,
      datasets: [
        { label: 'compute', data: seg((e) => [e.start, e.computeEnd]) as never, backgroundColor: COLORS.compute, grouped: false, barPercentage: 0.8 },
        { label: 'delay / stall', data: seg((e) => [e.computeEnd, e.delayEnd]) as never, backgroundColor: COLORS.delay, grouped: false, barPercentage: 0.8 },
        { label: 'communication', data: seg((e) => [e.delayEnd, e.end]) as never, backgroundColor: COLORS.comm, grouped: false, barPercentage: 0.8 },
        ...(down.length > 0
          ? [{ label: 'down (crashed)', data: down.map((g) => ({ x: [g.start, g.end], y: label(g.worker) })) as never, backgroundColor: COLORS.down, grouped: false, barPercentage: 0.8 }]
          : []),
        ...phaseDatasets(shown, label),
        ...byzantineDatasets(shown, label),
        ...(inFlight.length > 0
          ? [{ label: 'transfer in flight, overlapping compute', data: inFlight as never, backgroundColor: COLORS.background, grouped: false, barPercentage: 0.5 }]
          : []),
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' } },
      scales: { x: { type: 'linear', min: from === 1 ? 0 : Math.floor(Math.min(...shown.map((e) => e.start)) * 10) / 10, title: { display: true, text: 'simulated time (s)' } }, y: { type: 'category' } },
    },
  };
  writeFileSync(out, render(config, 1000, 160 + 50 * rows.length));
}

/** Per-worker virtual-time breakdown as stacked bars (adds up to the run's simulated time). */
export function plotBreakdown(breakdown: WorkerBreakdown[], out: string, title: string): void {
  const labels = breakdown.map((b) => `worker ${b.worker}`);
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'compute', data: breakdown.map((b) => b.computeSec), backgroundColor: COLORS.compute },
        { label: 'delay / stall', data: breakdown.map((b) => b.delaySec), backgroundColor: COLORS.delay },
        { label: 'communication (incl. waiting in collectives)', data: breakdown.map((b) => b.commSec), backgroundColor: COLORS.comm },
        { label: 'idle', data: breakdown.map((b) => b.waitSec), backgroundColor: COLORS.wait },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' } },
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'simulated seconds' } } },
    },
  };
  writeFileSync(out, render(config, 800, 500));
}

/** Steps in which a worker was Byzantine (fault kind byzantine): a thin bar over the whole step, per attack. */
function byzantineDatasets(shown: TimelineEvent[], label: (w: number) => string) {
  const attacks = [...new Set(shown.flatMap((e) => (e.byzantine ? [e.byzantine] : [])))].sort();
  return attacks.map((attack, i) => ({
    label: `byzantine: ${attack}`,
    data: shown.filter((e) => e.byzantine === attack && e.end > e.start).map((e) => ({ x: [e.start, e.end], y: label(e.worker) })) as never,
    backgroundColor: BYZANTINE_COLORS[i % BYZANTINE_COLORS.length],
    grouped: false,
    barPercentage: 0.2,
    order: -2,
  }));
}

const BYZANTINE_COLORS = ['#7b3294', '#c51b7d', '#542788'];

const PHASE_COLORS = ['#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

/** The collective phases inside communication bars (thin bars, one colour and legend entry per phase). */
function phaseDatasets(shown: TimelineEvent[], label: (w: number) => string) {
  const names = [...new Set(shown.flatMap((e) => (e.phases ?? []).map((p) => p[0])))];
  return names.map((name, i) => ({
    label: name,
    data: shown.flatMap((e) => (e.phases ?? []).filter((p) => p[0] === name && p[2] > p[1]).map((p) => ({ x: [p[1], p[2]], y: label(e.worker) }))) as never,
    backgroundColor: PHASE_COLORS[i % PHASE_COLORS.length],
    grouped: false,
    barPercentage: 0.4,
    // Drawn over the communication bar they subdivide (chart.js draws lower `order` last).
    order: -1,
  }));
}
