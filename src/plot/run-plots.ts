import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalLine, MetricsLine, TrainLine } from '../metrics/aggregator.ts';
import { renderLineChart, type Series } from './render-chart.ts';
import { UserError } from '../util/user-error.ts';
import { plotFormatOf } from './chart-output.ts';
import { BAND_KIND, groupCurve, onAxis, xOf, type CurveGroup, type XAxis, type YAxis } from './seed-aggregate.ts';

export type { XAxis, YAxis } from './seed-aggregate.ts';

const X_LABEL: Record<XAxis, string> = { step: 'step', time: 'simulated time (s)', bits: 'cumulative bits sent, uplink + downlink (log)' };

export function readMetrics(runDir: string): MetricsLine[] {
  const text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  const out: MetricsLine[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim().length === 0) return;
    try {
      out.push(JSON.parse(l) as MetricsLine);
    } catch {
      throw new UserError(`${join(runDir, 'metrics.jsonl')}:${i + 1}: expected one JSON object per line, found ${JSON.stringify(l.slice(0, 40))}`);
    }
  });
  return out;
}

/** Train loss (thin, smoothed by averaging windows), test loss and test accuracy against one x axis. */
export function runSeries(lines: MetricsLine[], x: XAxis, label = ''): Series[] {
  const train = lines.filter((l): l is TrainLine => l.kind === 'train' && onAxis(l, x));
  const evals = lines.filter((l): l is EvalLine => l.kind === 'eval' && onAxis(l, x));
  const win = Math.max(1, Math.floor(train.length / 100));
  const smooth: { x: number; y: number }[] = [];
  for (let i = 0; i + win <= train.length; i += win) {
    let s = 0;
    for (let j = i; j < i + win; j++) s += train[j]!.loss;
    smooth.push({ x: xOf(train[i + win - 1]!, x), y: s / win });
  }
  const p = label ? `${label}: ` : '';
  const out: Series[] = [
    { label: `${p}train loss`, points: smooth },
    { label: `${p}test loss`, points: evals.map((e) => ({ x: xOf(e, x), y: e.evalLoss })), dashed: true },
  ];
  if (evals.some((e) => e.evalAccuracy !== null)) {
    out.push({ label: `${p}test accuracy`, points: evals.map((e) => ({ x: xOf(e, x), y: e.evalAccuracy ?? Number.NaN })), right: true });
  }
  return out;
}

/** plots/vs_step.png, vs_time.png, vs_bits.png for one run. */
export async function plotRun(runDir: string, name: string, lines: MetricsLine[]): Promise<string[]> {
  mkdirSync(join(runDir, 'plots'), { recursive: true });
  const files: string[] = [];
  for (const x of ['step', 'time', 'bits'] as XAxis[]) {
    const png = renderLineChart({
      title: `${name}: loss and accuracy vs ${x === 'time' ? 'simulated time' : x}`,
      xLabel: X_LABEL[x],
      yLabel: 'loss',
      yRightLabel: 'test accuracy',
      logX: x === 'bits',
      series: runSeries(lines, x),
    });
    const f = join(runDir, 'plots', `vs_${x}.png`);
    writeFileSync(f, png);
    files.push(f);
  }
  // Gossip runs: how far the workers' models are from their average.
  const consensus = lines.filter((l): l is EvalLine => l.kind === 'eval' && typeof l.consensusDistance === 'number' && l.consensusDistance > 0);
  if (consensus.length > 0) {
    const f = join(runDir, 'plots', 'consensus.png');
    writeFileSync(
      f,
      renderLineChart({
        title: `${name}: consensus distance (1/n) sum ||x_i - x_bar||^2`,
        xLabel: X_LABEL.step,
        yLabel: 'consensus distance (log)',
        logY: true,
        series: [{ label: 'consensus distance', points: consensus.map((l) => ({ x: l.step, y: l.consensusDistance! })) }],
      }),
    );
    files.push(f);
  }
  return files;
}

/** Overlay several runs: one metric against one x axis (format from `out`'s extension). */
export function plotOverlay(runs: { label: string; lines: MetricsLine[] }[], x: XAxis, y: YAxis, out: string, title?: string): void {
  plotGroups(
    runs.map((r) => ({ label: r.label, runs: [r.lines] })),
    x,
    y,
    out,
    title,
  );
}

/**
 * Overlay curve groups: a single run as its curve, several seeds of one point as their mean with
 * a min-max band (the legend says so). PNG, SVG or PDF from `out`'s extension.
 */
export function plotGroups(groups: CurveGroup[], x: XAxis, y: YAxis, out: string, title?: string): void {
  const format = plotFormatOf(out);
  const series: Series[] = groups.map((g) => {
    const c = groupCurve(g, x, y);
    // Named by the run (or point) alone: the y axis already says what is drawn.
    const label = g.runs.length > 1 ? `${g.label} (mean of ${g.runs.length} seeds; ${BAND_KIND})` : g.label;
    return { label, points: c.points, ...(c.band ? { band: c.band } : {}) };
  });
  writeFileSync(
    out,
    renderLineChart({ title: title ?? `test ${y} vs ${x === 'time' ? 'simulated time' : x}`, xLabel: X_LABEL[x], yLabel: `test ${y}`, logX: x === 'bits', series, format }),
  );
}
