import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EvalLine, MetricsLine, TimelineEvent, TrainLine, WorkerBreakdown } from '../metrics/aggregator.ts';
import { timelineWindow } from './timeline-window.ts';
import { fmtByKey, KEY_TITLES } from './report-format.ts';
import { BAND_KIND, groupCurve, type CurveGroup, type Point, type XAxis, type YAxis } from './seed-aggregate.ts';
import type { RunLinkTraffic } from './link-traffic.ts';
import type { AutoRanReport } from '../metrics/auto-ran.ts';
import type { LinkUsage } from '../sim/link-utilization.ts';

/** report.html's link section: the run's real traffic per link, and links.png's one all-reduce. */
export interface ReportLinks {
  traffic: RunLinkTraffic | null;
  allReduce: { title: string; usage: LinkUsage[] } | null;
}

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
const X = { step: 'step', time: 'simulated time (s)', bits: 'cumulative bits sent, uplink + downlink (log; points before the first bit left out)' };
function fmtBits(b) { const u = [[1e9, 'Gbit'], [1e6, 'Mbit'], [1e3, 'kbit']].find(([s]) => b >= s) || [1, 'bit']; return (b / u[0]).toPrecision(3) + ' ' + u[1]; }
function lineChart(id, runs, x, y) {
  const datasets = [];
  // A log axis cannot show 0: points before anything was sent (DiLoCo's first inner steps) are left out.
  const keep = (pts) => x === 'bits' ? pts.filter(p => p.x > 0) : pts;
  runs.forEach((r, i) => {
    const c = palette[i % palette.length];
    if (y === 'loss' && runs.length === 1) datasets.push({ label: r.label + ' train loss', data: keep(r.train.map(p => ({ x: p[x], y: p.loss }))), borderColor: c, pointRadius: 0, borderWidth: 1 });
    const src = y === 'accuracy' ? r.evals.map(p => ({ x: p[x], y: p.acc })) : r.evals.map(p => ({ x: p[x], y: p.loss }));
    datasets.push({ label: r.label + (y === 'accuracy' ? ' test accuracy' : ' test loss'), data: keep(src), borderColor: runs.length === 1 ? palette[(i + 1) % palette.length] : c, pointRadius: 3 });
  });
  const ticks = x === 'bits' ? { callback: (v) => { const e = Math.floor(Math.log10(v) + 1e-9); const m = v / 10 ** e; return [1, 2, 5].some(k => Math.abs(m - k) < 1e-6) ? fmtBits(v) : ''; }, autoSkip: false, maxRotation: 0 } : { maxRotation: 0 };
  new Chart(document.getElementById(id), { type: 'line', data: { datasets }, options: { parsing: true, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => c.dataset.label + ': ' + (x === 'bits' ? fmtBits(c.parsed.x) : x === 'time' ? c.parsed.x.toFixed(3) + ' s' : 'step ' + c.parsed.x) + ', ' + (y === 'accuracy' ? (100 * c.parsed.y).toFixed(2) + ' %' : c.parsed.y.toFixed(4)) } } },
    scales: { x: { type: x === 'bits' ? 'logarithmic' : 'linear', title: { display: true, text: X[x] }, ticks }, y: { title: { display: true, text: y === 'accuracy' ? 'test accuracy' : 'loss' } } } } });
}
`;

// A sweep's groups (a point's seeds as one curve): the mean, and the min-max band between a lower
// and an upper dataset filled to it; the band's datasets stay out of the legend and tooltips.
const BAND_SCRIPT = `
function bandChart(id, groups, x, y) {
  const datasets = [];
  const rgba = (hex, a) => 'rgba(' + [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).join(',') + ',' + a + ')';
  groups.forEach((g, i) => {
    const c = palette[i % palette.length];
    const k = g.curves[x + '|' + y];
    if (k.band) {
      datasets.push({ label: g.label + ' min', band: true, data: k.band.lower, borderColor: rgba(c, 0.35), borderWidth: 1, pointRadius: 0, fill: false });
      datasets.push({ label: g.label + ' max', band: true, data: k.band.upper, borderColor: rgba(c, 0.35), borderWidth: 1, pointRadius: 0, fill: '-1', backgroundColor: rgba(c, 0.15) });
    }
    datasets.push({ label: g.label + (k.band ? ' (mean of ' + g.seeds + ' seeds; ' + BAND_KIND + ')' : '') + (y === 'accuracy' ? ' test accuracy' : ' test loss'), data: k.points, borderColor: c, backgroundColor: c, pointRadius: 3, fill: false });
  });
  const ticks = x === 'bits' ? { callback: (v) => { const e = Math.floor(Math.log10(v) + 1e-9); const m = v / 10 ** e; return [1, 2, 5].some(k => Math.abs(m - k) < 1e-6) ? fmtBits(v) : ''; }, autoSkip: false, maxRotation: 0 } : { maxRotation: 0 };
  new Chart(document.getElementById(id), { type: 'line', data: { datasets }, options: { parsing: true, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { filter: (item, d) => !d.datasets[item.datasetIndex].band } }, tooltip: { filter: (item) => !item.dataset.band, callbacks: { label: (c) => c.dataset.label + ': ' + (x === 'bits' ? fmtBits(c.parsed.x) : x === 'time' ? c.parsed.x.toFixed(3) + ' s' : 'step ' + c.parsed.x) + ', ' + (y === 'accuracy' ? (100 * c.parsed.y).toFixed(2) + ' %' : c.parsed.y.toFixed(4)) } } },
    scales: { x: { type: x === 'bits' ? 'logarithmic' : 'linear', title: { display: true, text: X[x] }, ticks }, y: { title: { display: true, text: y === 'accuracy' ? 'test accuracy' : 'loss' } } } } });
}
`;

/** A sweep group's curves for the page: mean and band (seed-aggregate.ts, as the PNG/SVG/PDF plots). */
function groupData(g: CurveGroup): { label: string; seeds: number; curves: Record<string, { points: Point[]; band?: { lower: Point[]; upper: Point[] } }> } {
  const curves: Record<string, { points: Point[]; band?: { lower: Point[]; upper: Point[] } }> = {};
  for (const x of ['bits', 'time', 'step'] as XAxis[]) for (const y of ['loss', 'accuracy'] as YAxis[]) curves[`${x}|${y}`] = groupCurve(g, x, y);
  return { label: g.label, seeds: g.runs.length, curves };
}

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}h1{font-size:1.4em}h2{font-size:1.1em}.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5em}
.card{border:1px solid #ddd;border-radius:6px;padding:1em;min-width:0}.chart{position:relative;height:var(--h,380px)}
.scroll{overflow-x:auto;max-width:100%;margin-bottom:1.5em}table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:right;white-space:nowrap}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;border:1px solid #ddd;border-radius:6px;padding:1em;overflow:auto;max-height:30em}</style>
<script>${chartJsSource()}</script></head><body>
${body}
<script>${PAGE_SCRIPT}${script}</script></body></html>
`;
}

/** report.html for one run: every chart of plots/, interactive (hover, zoom by legend toggling). */
/** A chart in a box of fixed height: the legend takes room inside it, never the page's width. */
function chartBox(id: string, height = 380): string {
  return `<div class="card"><div class="chart" style="--h:${height}px"><canvas id="${id}"></canvas></div></div>`;
}

/** The link section's HTML and script (empty when the run recorded no link traffic). */
function linkSection(links: ReportLinks | undefined): { html: string; script: string } {
  const traffic = links?.traffic ?? null;
  const all = links?.allReduce ?? null;
  if (!traffic && !all) return { html: '', script: '' };
  const table = traffic
    ? `<div class="scroll"><table><tr><th>link</th><th>bytes carried</th><th>busy (bits carried / what the link could carry in the simulated time, traces and link faults included)</th></tr>${traffic.links
        .map((l) => `<tr><td>${esc(l.link)}</td><td>${esc(fmtByKey('bits', 8 * l.bytes))}</td><td>${(100 * l.busy).toFixed(2)} %</td></tr>`)
        .join('')}</table></div>`
    : '';
  const html = `<h2>Links</h2>${table}<div class="grid">${traffic ? chartBox('link-traffic') : ''}${all ? chartBox('link-util') : ''}</div>`;
  const script = `
const traffic = ${data(traffic)};
if (traffic) new Chart(document.getElementById('link-traffic'), { type: 'line', data: { datasets: traffic.links.map((l, i) => ({ label: l.link + ' (' + (100 * l.busy).toFixed(1) + ' % busy)', data: l.perBin.map((b, k) => ({ x: (k + 0.5) * traffic.binSec, y: 8 * b / traffic.binSec / 1e6 })), borderColor: palette[i % palette.length], pointRadius: 0, borderWidth: 1.5, stepped: 'middle' })) },
  options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' }, title: { display: true, text: 'traffic of the busiest links over the run (mean Mbit/s per time bin)' } }, scales: { x: { type: 'linear', title: { display: true, text: 'simulated time (s)' } }, y: { title: { display: true, text: 'Mbit/s' } } } } });
const allReduce = ${data(all)};
if (allReduce) new Chart(document.getElementById('link-util'), { type: 'line', data: { datasets: allReduce.usage.map((u, i) => ({ label: u.link + ' (' + (u.bits / 8e6).toFixed(3) + ' MB)', data: u.times.map((t, k) => ({ x: t * 1e3, y: u.value[k] })), borderColor: palette[i % palette.length], pointRadius: 0, borderWidth: 1.5, stepped: 'before' })) },
  options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' }, title: { display: true, text: allReduce.title } }, scales: { x: { type: 'linear', title: { display: true, text: 'virtual time within the all-reduce (ms)' } }, y: { min: 0, title: { display: true, text: 'link utilization' } } } } });
`;
  return { html, script };
}

/** topology.collective auto: what it ran, per message size (summary.json's collective.ran). */
function autoRanRow(summary: Record<string, unknown>): string {
  const ran = (summary['collective'] as { ran?: AutoRanReport } | undefined)?.ran;
  if (!ran || ran.counts.length === 0) return '';
  const text = ran.counts.map((c) => `${c.algorithm} x ${c.calls} (${c.bytes} B)`).join(', ');
  const changes = ran.switches;
  return `<tr><td>all-reduces auto ran</td><td>${esc(text)}${changes > 0 ? esc(`; ${changes} change${changes === 1 ? '' : 's'} of choice`) : ''}</td></tr>`;
}

export function writeRunReport(runDir: string, title: string, lines: MetricsLine[], breakdown: WorkerBreakdown[], timeline: TimelineEvent[], summary: Record<string, unknown>, links?: ReportLinks): void {
  const linkPart = linkSection(links);
  const run = runData(title, lines);
  const win = timelineWindow(timeline, breakdown.length);
  const workers = breakdown.length;
  const keys = ['finalAccuracy', 'finalLoss', 'totalBits', 'uplinkBits', 'downlinkBits', 'peakStepBits', 'simTimeSec', 'wallTimeSec', 'steps'];
  const target = summary['timeToTarget'] as { step: number; simTimeSec: number; bits: number } | null | undefined;
  const rows =
    keys.map((k) => `<tr><td>${esc(KEY_TITLES[k] ?? k)}</td><td>${esc(fmtByKey(k, summary[k]))}</td></tr>`).join('') +
    `<tr><td>backend</td><td>${esc(String(summary['backend'] ?? ''))}</td></tr>` +
    autoRanRow(summary) +
    (target ? `<tr><td>target reached</td><td>step ${target.step}, ${esc(fmtByKey('simTimeSec', target.simTimeSec))} simulated, ${esc(fmtByKey('bits', target.bits))}</td></tr>` : '');
  const configFile = join(runDir, 'config.yaml');
  const config = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
  const flying = new Set(win.shown.filter((e) => (e.background ?? []).length > 0).map((e) => e.worker));
  const timelineRows = workers + flying.size;
  const body = `<h1>${esc(title)}</h1><div class="scroll"><table>${rows}</table></div>
<div class="grid">
${['step', 'time', 'bits'].map((x) => `${chartBox(`loss-${x}`)}${chartBox(`acc-${x}`)}`).join('\n')}
${chartBox('breakdown')}${chartBox('timeline', Math.max(380, 120 + 40 * timelineRows))}
</div>
${linkPart.html}
<h2>Resolved configuration (config.yaml)</h2><pre>${esc(config)}</pre>`;
  const script = `
const run = ${data(run)};
for (const x of ['step', 'time', 'bits']) { lineChart('loss-' + x, [run], x, 'loss'); if (run.evals.some(e => e.acc !== null)) lineChart('acc-' + x, [run], x, 'accuracy'); }
const b = ${data(breakdown)};
new Chart(document.getElementById('breakdown'), { type: 'bar', data: { labels: b.map(w => 'worker ' + w.worker), datasets: [
  { label: 'compute', data: b.map(w => w.computeSec), backgroundColor: '#2ca02c' }, { label: 'delay / stall', data: b.map(w => w.delaySec), backgroundColor: '#d62728' },
  { label: 'communication', data: b.map(w => w.commSec), backgroundColor: '#1f77b4' }, { label: 'idle', data: b.map(w => w.waitSec), backgroundColor: '#c7c7c7' } ] },
  options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' }, title: { display: true, text: "where each worker's simulated time went" } }, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'simulated seconds' } } } } });
const t = ${data(win.shown)};
const down = ${data(win.down)};
const seg = (a, z) => t.map(e => ({ x: [e[a], e[z]], y: 'worker ' + e.worker })).filter(p => p.x[1] > p.x[0]);
// Transfers in flight get a row under their worker: on its row they would hide behind its compute.
const flying = new Set(t.filter(e => (e.background || []).length > 0).map(e => e.worker));
const rows = Array.from({ length: ${workers} }, (_, w) => flying.has(w) ? ['worker ' + w, 'worker ' + w + ' in flight'] : ['worker ' + w]).flat();
new Chart(document.getElementById('timeline'), { type: 'bar', data: { labels: rows, datasets: [
  { label: 'compute', data: seg('start', 'computeEnd'), backgroundColor: '#2ca02c', grouped: false },
  { label: 'delay / stall', data: seg('computeEnd', 'delayEnd'), backgroundColor: '#d62728', grouped: false },
  { label: 'communication', data: seg('delayEnd', 'end'), backgroundColor: '#1f77b4', grouped: false },
  { label: 'down (crashed)', data: down.map(g => ({ x: [g.start, g.end], y: 'worker ' + g.worker })), backgroundColor: '#404040', grouped: false },
  ...[...new Set(t.filter(e => e.byzantine).map(e => e.byzantine))].sort().map(a => ({ label: 'byzantine: ' + a, data: t.filter(e => e.byzantine === a).map(e => ({ x: [e.start, e.end], y: 'worker ' + e.worker })), backgroundColor: '#7b3294', grouped: false, barPercentage: 0.2, order: -2 })),
  { label: 'transfer in flight, overlapping compute', data: t.flatMap(e => (e.background || []).map(x => ({ x, y: 'worker ' + e.worker + ' in flight' }))), backgroundColor: '#9ecae1', grouped: false, barPercentage: 0.5 } ] },
  options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' }, title: { display: true, text: 'timeline, steps ${win.from}-${win.to}' } }, scales: { x: { type: 'linear', title: { display: true, text: 'simulated time (s)' } } } } });
${linkPart.script}`;
  writeFileSync(join(runDir, 'report.html'), page(title, body, script));
}

/** report.html for a sweep: the overlays and the table. */
export function writeSweepReport(dir: string, title: string, runs: { label: string; lines: MetricsLine[] }[], header: string[], rows: string[][], groups?: CurveGroup[]): void {
  const table = `<div class="scroll"><table><tr>${header.map((c) => `<th>${esc(KEY_TITLES[c] ?? c)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td>${esc(KEY_TITLES[header[i] ?? ''] ? fmtByKey(header[i]!, c) : c)}</td>`).join('')}</tr>`)
    .join('')}</table></div>`;
  // The plot area keeps its height: the box grows with the legend (about one line per two runs).
  const h = 380 + 12 * (groups ? groups.length : runs.length);
  const body = `<h1>${esc(title)}</h1>${table}<div class="grid">
${['bits', 'time', 'step'].map((x) => `${chartBox(`acc-${x}`, h)}${chartBox(`loss-${x}`, h)}`).join('\n')}</div>`;
  // Several seeds of one grid point: their mean with the min-max band (as the sweep's plots/).
  const script = groups
    ? `${BAND_SCRIPT}const BAND_KIND = ${data(BAND_KIND)};
const groups = ${data(groups.map(groupData))};
for (const x of ['bits', 'time', 'step']) { bandChart('loss-' + x, groups, x, 'loss'); if (groups.some(g => g.curves[x + '|accuracy'].points.some(p => p.y !== null))) bandChart('acc-' + x, groups, x, 'accuracy'); }`
    : `const runs = ${data(runs.map((r) => runData(r.label, r.lines)))};
for (const x of ['bits', 'time', 'step']) { lineChart('loss-' + x, runs, x, 'loss'); if (runs.some(r => r.evals.some(e => e.acc !== null))) lineChart('acc-' + x, runs, x, 'accuracy'); }`;
  writeFileSync(join(dir, 'report.html'), page(title, body, script));
}
