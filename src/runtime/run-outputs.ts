import { join } from 'node:path';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import type { MetricsAggregator, MetricsLine, WorkerBreakdown } from '../metrics/aggregator.ts';
import { buildSummary, type Summary } from '../metrics/summary.ts';
import { plotRun } from '../plot/run-plots.ts';
import { plotBreakdown, plotTimeline, readTimeline } from '../plot/timeline-plots.ts';
import { writeRunReport } from '../plot/html-report.ts';
import { runLinkTraffic } from '../plot/link-traffic.ts';
import { writeChromeTrace } from '../plot/chrome-trace.ts';
import { topologyOf } from './run-setup.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { gossipNeighbours } from '../../topologies/neighbours.ts';
import { collectiveReport, plotRunLinks } from './collective-setup.ts';
import { GANTT_MAX_WORKERS, type RunSession } from './run-session.ts';

/**
 * A finished run's outputs: summary.json (totals from the transport's counters, the algorithm's
 * own summary, the collective report) and the plots, trace.json and report.html. A plot that
 * cannot be drawn is a warning: the metrics and summary are complete without it.
 */
export async function writeRunOutputs(
  s: RunSession,
  agg: MetricsAggregator,
  lines: MetricsLine[],
  server: Endpoint | null,
  algorithm: Algorithm<OptimizerConfig>,
  times: { trainStart: number; trainEnd: number },
): Promise<Summary> {
  const { lc, c, opts, pre, manifest, dir, wall } = s;
  const { trainStart, trainEnd } = times;
  const outDir = dir.path;
  const breakdown: WorkerBreakdown[] = agg.finish();
  const serverStats = server ? (server as Endpoint).stats : null;
  const summary = buildSummary(lc, lines, breakdown, wall(), manifest.backend, serverStats ? serverStats.bytesSent * 8 : 0, serverStats?.bytesTo);
  summary.trainWallSec = trainEnd - trainStart;
  // Time-only: NaN losses are the absence of training, not a divergence.
  if (opts.timeOnly) summary.divergedAtStep = null;
  if (algorithm.summary) {
    const params = pre.model.params.map((p) => ({ name: p.name, offset: p.offset, size: p.size, shape: p.shape }));
    Object.assign(summary, algorithm.summary(c.optimizer, { params, workers: c.workers, steps: c.train.steps, neighbours: () => gossipNeighbours(topologyOf(lc)) }));
  }
  // The collective report and link plot time whole schedules (2n(n-1) messages for a ring)
  // under max-min sharing: at time-only scale they would cost more than the run itself.
  const analyseCollectives = !opts.timeOnly || c.workers <= GANTT_MAX_WORKERS;
  if (c.topology.kind !== 'star' && analyseCollectives) summary.collective = collectiveReport(lc, pre.model.size, agg.autoRan.report());
  dir.writeJson('summary.json', summary);
  try {
    // Time-only runs have no losses: only the timeline and the time breakdown are drawn.
    if (!opts.timeOnly) await plotRun(outDir, lc.config.name, lines);
    // A Gantt chart (or trace) of thousands of rows is unreadable and took most of a large
    // run's wall time: the first GANTT_MAX_WORKERS workers (timeline.jsonl has them all).
    const ganttWorkers = Math.min(c.workers, GANTT_MAX_WORKERS);
    // Time-only runs use no more of the timeline (report.html is for full runs).
    const timeline = readTimeline(outDir, opts.timeOnly ? ganttWorkers : Infinity);
    const shown = ganttWorkers < c.workers ? timeline.filter((e) => e.worker < ganttWorkers) : timeline;
    const serverSends = server ? (server as Endpoint).drainTransfers() : [];
    writeChromeTrace(join(outDir, 'trace.json'), shown, ganttWorkers, c.name, topologyOf(lc), serverSends);
    plotTimeline(shown, ganttWorkers, join(outDir, 'plots', 'timeline.png'), c.name);
    // Likewise the breakdown's bars (10,000 of them took seconds to draw in 800 pixels).
    const barsNote = ganttWorkers < c.workers ? ` (workers 0-${ganttWorkers - 1} of ${c.workers})` : '';
    plotBreakdown(breakdown.slice(0, ganttWorkers), join(outDir, 'plots', 'breakdown.png'), `${c.name}: where each worker's simulated time went${barsNote}`);
    const allReduce = c.topology.kind !== 'star' && c.workers > 1 && analyseCollectives ? plotRunLinks(lc, pre.model.size, join(outDir, 'plots', 'links.png')) : null;
    if (!opts.timeOnly) writeRunReport(outDir, c.name, lines, breakdown, timeline, summary as unknown as Record<string, unknown>, { traffic: runLinkTraffic(topologyOf(lc), timeline, serverSends, summary.simTimeSec, undefined, 8, new FaultSchedule(lc.faults)), allReduce });
  } catch (e) {
    // Plots are a convenience: a failure to draw must not lose a finished run's results.
    opts.onInfo?.(`warning: could not draw plots (${(e as Error).message}); metrics and summary are complete`);
  }
  return summary;
}
