/**
 * Final test accuracy against the number of attacking workers, one line per aggregator, from a
 * `dtemu sweep experiments/robust/attackers.yaml` directory (each point's config.yaml and
 * summary.json). Also prints the table as Markdown.
 *
 *   npx tsx experiments/robust/plot.ts SWEEP_DIR [OUT.png]
 */
import { readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ChartConfiguration } from 'chart.js';
import { renderChart } from '../../src/plot/chart-output.ts';

const [dir, out = join(dir ?? '.', 'robust-accuracy-vs-attackers.png')] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: npx tsx experiments/robust/plot.ts SWEEP_DIR [OUT.png]\n');
  process.exit(2);
}

interface Point {
  aggregator: string;
  attackers: number;
  accuracy: number;
}

function nameOf(a: unknown): string {
  if (typeof a === 'string') return a;
  const o = a as Record<string, unknown>;
  const params = Object.entries(o).filter(([k]) => k !== 'kind');
  return params.length > 0 ? `${String(o['kind'])} (${params.map(([k, v]) => `${k} ${String(v)}`).join(', ')})` : String(o['kind']);
}

const points: Point[] = [];
for (const d of readdirSync(dir)) {
  const summary = join(dir, d, 'summary.json');
  if (!existsSync(summary)) continue;
  const config = parse(readFileSync(join(dir, d, 'config.yaml'), 'utf8')) as { optimizer: { aggregator: unknown }; faults: { kind: string; workers?: number[] }[] };
  const attackers = config.faults.filter((f) => f.kind === 'byzantine').reduce((n, f) => n + (f.workers?.length ?? 0), 0);
  const s = JSON.parse(readFileSync(summary, 'utf8')) as { finalAccuracy: number };
  points.push({ aggregator: nameOf(config.optimizer.aggregator), attackers, accuracy: 100 * s.finalAccuracy });
}
const aggregators = [...new Set(points.map((p) => p.aggregator))];
const counts = [...new Set(points.map((p) => p.attackers))].sort((a, b) => a - b);
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const config: ChartConfiguration<'line'> = {
  type: 'line',
  data: {
    datasets: aggregators.map((a, i) => ({
      label: a,
      data: points.filter((p) => p.aggregator === a).sort((x, y) => x.attackers - y.attackers).map((p) => ({ x: p.attackers, y: p.accuracy })),
      borderColor: PALETTE[i % PALETTE.length],
      backgroundColor: PALETTE[i % PALETTE.length],
      // The trimmed mean lies on the median: dash every other line so both show.
      borderDash: i % 2 === 0 ? [] : [8, 4],
      borderWidth: 2,
    })),
  },
  options: {
    responsive: false,
    animation: false,
    devicePixelRatio: 1,
    plugins: { title: { display: true, text: 'Fashion-MNIST, 10 workers: final test accuracy under sign-flip (x4) attackers', font: { size: 16 } }, legend: { position: 'bottom' } },
    scales: {
      x: { type: 'linear', min: 0, max: Math.max(...counts), ticks: { stepSize: 1 }, title: { display: true, text: 'Byzantine workers (of 10)' } },
      y: { min: 0, max: 100, title: { display: true, text: 'test accuracy (%)' } },
    },
  },
};
writeFileSync(out, renderChart(config, 900, 540));
const cell = (a: string, n: number) => {
  const p = points.find((q) => q.aggregator === a && q.attackers === n);
  return p ? p.accuracy.toFixed(1) : '';
};
process.stdout.write(`| aggregator | ${counts.map((n) => `${n} attacking`).join(' | ')} |\n|---|${counts.map(() => '---:').join('|')}|\n`);
for (const a of aggregators) process.stdout.write(`| ${a} | ${counts.map((n) => cell(a, n)).join(' | ')} |\n`);
process.stderr.write(`wrote ${out}\n`);
