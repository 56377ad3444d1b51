import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  /** Right-hand axis (e.g. accuracy next to loss). */
  right?: boolean;
  dashed?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Render a line chart to PNG bytes (server-side chart.js on @napi-rs/canvas). */
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
}): Buffer {
  const width = opts.width ?? 900;
  const height = opts.height ?? 540;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const hasRight = opts.series.some((s) => s.right);
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: {
      datasets: opts.series.map((s, i) => ({
        label: s.label,
        data: s.points,
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        borderWidth: 2,
        pointRadius: s.points.length > 60 ? 0 : 2.5,
        borderDash: s.dashed ? [6, 4] : [],
        yAxisID: s.right ? 'yRight' : 'y',
        parsing: false,
        spanGaps: true,
      })),
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: opts.title, font: { size: 16 } },
        legend: { display: true, position: 'bottom' },
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
  const chart = new Chart(ctx as unknown as CanvasRenderingContext2D, config);
  const png = canvas.toBuffer('image/png');
  chart.destroy();
  return png;
}
