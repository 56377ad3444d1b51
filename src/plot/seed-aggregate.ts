import type { EvalLine, MetricsLine } from '../metrics/aggregator.ts';

export type XAxis = 'step' | 'time' | 'bits';
export type YAxis = 'loss' | 'accuracy';

/** One curve per run, or the runs of one sweep point that differ only in their seed. */
export interface CurveGroup {
  label: string;
  runs: MetricsLine[][];
}

export interface Point {
  x: number;
  y: number;
}

/** The legend's statement of what the band is (kept in one place so plots and docs agree). */
export const BAND_KIND = 'band: min-max over seeds';

/** x of a metrics line (bits: a log axis, see `onAxis`). */
export function xOf(l: { step: number; simTimeSec: number; bits: number }, x: XAxis): number {
  return x === 'step' ? l.step : x === 'time' ? l.simTimeSec : Math.max(1, l.bits);
}

/**
 * Whether a line can be drawn against `x`: on the log bits axis, lines from before anything was
 * sent (DiLoCo's first inner steps) are left out; drawn at 1 bit they would stretch the axis
 * over decades and draw a wall at its left edge.
 */
export function onAxis(l: { bits: number }, x: XAxis): boolean {
  return x !== 'bits' || l.bits > 0;
}

function yOf(e: EvalLine, y: YAxis): number {
  return y === 'loss' ? e.evalLoss : (e.evalAccuracy ?? Number.NaN);
}

/**
 * The evaluation curve of a group: one run's points as they are; several seeds' as their mean at
 * every evaluation step all of them have (x and y averaged), with the min-max band of y.
 */
export function groupCurve(g: CurveGroup, x: XAxis, y: YAxis): { points: Point[]; band?: { lower: Point[]; upper: Point[] } } {
  const evals = g.runs.map((lines) => lines.filter((l): l is EvalLine => l.kind === 'eval' && onAxis(l, x)));
  if (evals.length === 1) return { points: evals[0]!.map((e) => ({ x: xOf(e, x), y: yOf(e, y) })) };
  const bySteps = evals.map((list) => new Map(list.map((e) => [e.step, e])));
  const steps = evals[0]!.map((e) => e.step).filter((s) => bySteps.every((m) => m.has(s)));
  const points: Point[] = [];
  const lower: Point[] = [];
  const upper: Point[] = [];
  for (const s of steps) {
    const at = bySteps.map((m) => m.get(s)!);
    const px = at.reduce((a, e) => a + xOf(e, x), 0) / at.length;
    const ys = at.map((e) => yOf(e, y));
    points.push({ x: px, y: ys.reduce((a, b) => a + b, 0) / ys.length });
    lower.push({ x: px, y: Math.min(...ys) });
    upper.push({ x: px, y: Math.max(...ys) });
  }
  return { points, band: { lower, upper } };
}
