import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalLine, MetricsLine, TrainLine } from '../metrics/aggregator.ts';
import { renderLineChart, type Series } from './render-chart.ts';
import { UserError } from '../util/user-error.ts';

export type XAxis = 'step' | 'time' | 'bits';
export type YAxis = 'loss' | 'accuracy';

const X_LABEL: Record<XAxis, string> = { step: 'step', time: 'simulated time (s)', bits: 'cumulative bits sent (log)' };

function xOf(l: TrainLine | EvalLine, x: XAxis): number {
  return x === 'step' ? l.step : x === 'time' ? l.simTimeSec : Math.max(1, l.bits);
}

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
  const train = lines.filter((l): l is TrainLine => l.kind === 'train');
  const evals = lines.filter((l): l is EvalLine => l.kind === 'eval');
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
  return files;
}

/** Overlay several runs: one metric against one x axis. */
export function plotOverlay(runs: { label: string; lines: MetricsLine[] }[], x: XAxis, y: YAxis, out: string): void {
  const series: Series[] = [];
  for (const r of runs) {
    const s = runSeries(r.lines, x, r.label);
    // One curve per run, named by the run alone: the y axis already says what is drawn.
    if (y === 'loss') series.push(...s.filter((q) => q.label.endsWith('test loss')).map((q) => ({ ...q, label: r.label, dashed: false })));
    else series.push(...s.filter((q) => q.right).map((q) => ({ ...q, label: r.label, right: false })));
  }
  writeFileSync(
    out,
    renderLineChart({ title: `test ${y} vs ${x === 'time' ? 'simulated time' : x}`, xLabel: X_LABEL[x], yLabel: `test ${y}`, logX: x === 'bits', series }),
  );
}
