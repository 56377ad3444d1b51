import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EvalLine, MetricsLine, TimelineEvent, TrainLine, WorkerBreakdown } from '../metrics/aggregator.ts';
import { timelineWindow } from './timeline-window.ts';

const require = createRequire(import.meta.url);

/** chart.js's browser bundle, inlined so a report is one self-contained file (no network). */
function chartJsSource(): string {
  // The browser bundle is not an export of the package: find it next to the CommonJS entry.
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function data(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

interface RunData {
  label: string;
  train: { step: number; time: number; bits: number; loss: number | null }[];
  evals: { step: number; time: number; bits: number; loss: number | null; acc: number | null }[];
}

function runData(label: string, lines: MetricsLine[]): RunData {
  const train = lines.filter((l): l is TrainLine => l.kind === 'train');
  const evals = lines.filter((l): l is EvalLine => l.kind === 'eval');
  const stride = Math.max(1, Math.floor(train.length / 500));
  return {
    label,
    train: train.filter((_, i) => i % stride === 0).map((l) => ({ step: l.step, time: l.simTimeSec, bits: l.bits, loss: l.loss })),
    evals: evals.map((e) => ({ step: e.step, time: e.simTimeSec, bits: e.bits, loss: e.evalLoss, acc: e.evalAccuracy })),
  };
}

const PAGE_SCRIPT = `
Chart.defaults.animation = false;
const palette = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
const X = { step: 'step', time: 'simulated time (s)', bits: 'cumulative bits sent' };
function lineChart(id, runs, x, y) {
  const datasets = [];
  runs.forEach((r, i) => {
    const c = palette[i % palette.length];
    if (y === 'loss' && runs.length === 1) datasets.push({ label: r.label + ' train loss', data: r.train.map(p => ({ x: p[x], y: p.loss })), borderColor: c, pointRadius: 0, borderWidth: 1 });
    const src = y === 'accuracy' ? r.evals.map(p => ({ x: p[x], y: p.acc })) : r.evals.map(p => ({ x: p[x], y: p.loss }));
    datasets.push({ label: r.label + (y === 'accuracy' ? ' test accuracy' : ' test loss'), data: src, borderColor: runs.length === 1 ? palette[(i + 1) % palette.length] : c, pointRadius: 3 });
  });
  new Chart(document.getElementById(id), { type: 'line', data: { datasets }, options: { parsing: true, interaction: { mode: 'nearest', intersect: false },
    scales: { x: { type: x === 'bits' ? 'logarithmic' : 'linear', title: { display: true, text: X[x] } }, y: { title: { display: true, text: y } } } } });
}
`;

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}h1{font-size:1.4em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.card{border:1px solid #ddd;border-radius:6px;padding:1em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}</style>
<script>${chartJsSource()}</script></head><body>
${body}
<script>${PAGE_SCRIPT}${script}</script></body></html>
`;
}

/** report.html for one run: every chart of plots/, interactive (hover, zoom by legend toggling). */
export function writeRunReport(runDir: string, title: string, lines: MetricsLine[], breakdown: WorkerBreakdown[], timeline: TimelineEvent[], summary: Record<string, unknown>): void {
  const run = runData(title, lines);
  const win = timelineWindow(timeline, breakdown.length);
  const workers = breakdown.length;
  const rows = (['finalAccuracy', 'finalLoss', 'totalBits', 'simTimeSec', 'wallTimeSec', 'steps'] as const)
    .map((k) => `<tr><td>${k}</td><td>${esc(String(summary[k] ?? ''))}</td></tr>`)
    .join('');
  const body = `<h1>${esc(title)}</h1><table>${rows}</table>
<div class="grid">
${['step', 'time', 'bits'].map((x) => `<div class="card"><canvas id="loss-${x}"></canvas></div><div class="card"><canvas id="acc-${x}"></canvas></div>`).join('\n')}
<div class="card"><canvas id="breakdown"></canvas></div><div class="card"><canvas id="timeline"></canvas></div>
</div>`;
  const script = `
const run = ${data(run)};
for (const x of ['step', 'time', 'bits']) { lineChart('loss-' + x, [run], x, 'loss'); if (run.evals.some(e => e.acc !== null)) lineChart('acc-' + x, [run], x, 'accuracy'); }
const b = ${data(breakdown)};
new Chart(document.getElementById('breakdown'), { type: 'bar', data: { labels: b.map(w => 'worker ' + w.worker), datasets: [
  { label: 'compute', data: b.map(w => w.computeSec), backgroundColor: '#2ca02c' }, { label: 'delay / stall', data: b.map(w => w.delaySec), backgroundColor: '#d62728' },
  { label: 'communication', data: b.map(w => w.commSec), backgroundColor: '#1f77b4' }, { label: 'idle', data: b.map(w => w.waitSec), backgroundColor: '#c7c7c7' } ] },
  options: { plugins: { title: { display: true, text: 'simulated seconds per worker' } }, scales: { x: { stacked: true }, y: { stacked: true } } } });
const t = ${data(win.shown)};
const down = ${data(win.down)};
const seg = (a, z) => t.map(e => ({ x: [e[a], e[z]], y: 'worker ' + e.worker })).filter(p => p.x[1] > p.x[0]);
new Chart(document.getElementById('timeline'), { type: 'bar', data: { labels: Array.from({ length: ${workers} }, (_, w) => 'worker ' + w), datasets: [
  { label: 'compute', data: seg('start', 'computeEnd'), backgroundColor: '#2ca02c', grouped: false },
  { label: 'delay / stall', data: seg('computeEnd', 'delayEnd'), backgroundColor: '#d62728', grouped: false },
  { label: 'communication', data: seg('delayEnd', 'end'), backgroundColor: '#1f77b4', grouped: false },
  { label: 'down (crashed)', data: down.map(g => ({ x: [g.start, g.end], y: 'worker ' + g.worker })), backgroundColor: '#404040', grouped: false },
  { label: 'in flight, overlapping compute', data: t.flatMap(e => (e.background || []).map(x => ({ x, y: 'worker ' + e.worker }))), backgroundColor: '#9ecae1', grouped: false, barPercentage: 0.3 } ] },
  options: { indexAxis: 'y', plugins: { title: { display: true, text: 'timeline, steps ${win.from}-${win.to} (simulated s)' } }, scales: { x: { type: 'linear' } } } });
`;
  writeFileSync(join(runDir, 'report.html'), page(title, body, script));
}

/** report.html for a sweep: the overlays and the table. */
export function writeSweepReport(dir: string, title: string, runs: { label: string; lines: MetricsLine[] }[], header: string[], rows: string[][]): void {
  const data_ = runs.map((r) => runData(r.label, r.lines));
  const table = `<table><tr>${header.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
  const body = `<h1>${esc(title)}</h1>${table}<div class="grid">
${['bits', 'time', 'step'].map((x) => `<div class="card"><canvas id="acc-${x}"></canvas></div><div class="card"><canvas id="loss-${x}"></canvas></div>`).join('\n')}</div>`;
  const script = `const runs = ${data(data_)};
for (const x of ['bits', 'time', 'step']) { lineChart('loss-' + x, runs, x, 'loss'); if (runs.some(r => r.evals.some(e => e.acc !== null))) lineChart('acc-' + x, runs, x, 'accuracy'); }`;
  writeFileSync(join(dir, 'report.html'), page(title, body, script));
}
