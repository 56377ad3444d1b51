import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { renderChart, type PlotFormat } from './chart-output.ts';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  /** Right-hand axis (e.g. accuracy next to loss). */
  right?: boolean;
  dashed?: boolean;
  /** A shaded band around the line (e.g. min-max over seeds), drawn under it, same x values. */
  band?: { lower: { x: number; y: number }[]; upper: { x: number; y: number }[] };
}

/** Datasets with this label are a band's edges: kept out of the legend. */
const BAND_EDGE = '';

/** '#rrggbb' at opacity `a`. */
function translucent(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Render a line chart to PNG (default), SVG or PDF bytes (server-side chart.js on @napi-rs/canvas). */
export function renderLineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  yRightLabel?: string;
  logX?: boolean;
  logY?: boolean;
  series: Series[];
  width?: number;
  height?: number;
  format?: PlotFormat;
}): Buffer {
  const width = opts.width ?? 900;
  const height = opts.height ?? 540;
  const hasRight = opts.series.some((s) => s.right);
  const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = [];
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const yAxisID = s.right ? 'yRight' : 'y';
    if (s.band) {
      // Lower edge, then the upper edge filled down to it ('-1': the previous dataset).
      const edge = { label: BAND_EDGE, borderWidth: 0, pointRadius: 0, yAxisID, parsing: false as const, spanGaps: true };
      datasets.push({ ...edge, data: s.band.lower, borderColor: translucent(color, 0), fill: false });
      datasets.push({ ...edge, data: s.band.upper, borderColor: translucent(color, 0), backgroundColor: translucent(color, 0.18), fill: '-1' });
    }
    datasets.push({
      label: s.label,
      data: s.points,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 2,
      pointRadius: s.points.length > 60 ? 0 : 2.5,
      borderDash: s.dashed ? [6, 4] : [],
      yAxisID,
      parsing: false,
      spanGaps: true,
      fill: false,
    });
  });
  const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
    type: 'line',
    data: { datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: opts.title, font: { size: 16 } },
        legend: { display: true, position: 'bottom', labels: { filter: (item) => item.text !== BAND_EDGE } },
      },
      scales: {
        x: {
          type: opts.logX ? 'logarithmic' : 'linear',
          title: { display: true, text: opts.xLabel },
          // On a log axis label 1, 2 and 5 times each decade (2e7, 5e7, 1e8), not every minor tick.
          ticks: opts.logX
            ? {
                callback: (v) => {
                  const x = Number(v);
                  const e = Math.floor(Math.log10(x) + 1e-9);
                  const m = x / 10 ** e;
                  const near = [1, 2, 5].find((k) => Math.abs(m - k) < 1e-6);
                  return near === undefined ? '' : `${near}e${e}`;
                },
                autoSkip: false,
                maxRotation: 0,
              }
            : { maxRotation: 0 },
        },
        y: { type: opts.logY ? 'logarithmic' : 'linear', position: 'left', title: { display: true, text: opts.yLabel } },
        ...(hasRight ? { yRight: { type: 'linear' as const, position: 'right' as const, min: 0, max: 1, grid: { drawOnChartArea: false }, title: { display: true, text: opts.yRightLabel ?? '' } } } : {}),
      },
    },
  };
  return renderChart(config, width, height, opts.format ?? 'png');
}
