// The combined picture of `dtemu sweep experiments/async/stragglers-compare.yaml` (or
// stragglers-compare-logistic.yaml, with `accuracy`):
//   node --import tsx experiments/async/plot-compare.ts <sweepDir> [out.png] [loss|accuracy]
// Test loss (log scale) or accuracy against simulated time for every method, shifted-exponential
// delays solid, Pareto dashed, one colour per method; and the time-to-target table as markdown.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLineChart, type Series } from '../../src/plot/render-chart.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: plot-compare.ts <sweepDir> [out.png]\n');
  process.exit(2);
}
const out = process.argv[3] ?? fileURLToPath(new URL('stragglers-compare.png', import.meta.url));
const metric = process.argv[4] === 'accuracy' ? 'accuracy' : 'loss';

/** sweep.csv's run directories and their grid values (per-seed rows only). */
function sweepRows(csvText: string): { run: string; delay: string; optimizer: string }[] {
  const lines = csvText.trim().split('\n');
  const split = (l: string) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
  const head = split(lines[0]!);
  const col = (name: string) => head.indexOf(name);
  return lines
    .slice(1)
    .map(split)
    .filter((c) => /^\d+$/.test(c[col('seed')] ?? ''))
    .map((c) => ({ run: c[col('run')]!, delay: c[col('stragglers.delay')]!, optimizer: c[col('optimizer')]! }));
}

const NAMES: [RegExp, string][] = [
  [/^allreduce-sgd/, 'sync SGD'],
  [/^async-sgd/, 'async SGD'],
  [/^backup-workers\(1,/, 'backup b=1'],
  [/^backup-workers\(2,/, 'backup b=2'],
  [/^backup-workers\(dynamic/, 'backup dynamic'],
  [/^gradient-coding/, 'gradient coding s=2'],
  [/^encoded-optimization\(6,hadamard/, 'encoded Hadamard k=6'],
  [/^encoded-optimization\(6,etf/, 'encoded ETF k=6'],
  [/^encoded-optimization\(6,none/, 'uncoded k=6'],
  [/^encoded-optimization\(6,replication/, 'replication k=6'],
  [/^sequential-gradient-coding/, 'SR-SGC (1,3,3)'],
];
const nameOf = (optimizer: string) => NAMES.find(([re]) => re.test(optimizer))?.[1] ?? optimizer;

const rows = sweepRows(readFileSync(join(dir, 'sweep.csv'), 'utf8'));
const series: Series[] = [];
const table = new Map<string, Record<string, string>>();
for (const r of rows) {
  const lines = readFileSync(join(dir, r.run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
  const pareto = r.delay.startsWith('pareto');
  const label = `${nameOf(r.optimizer)}${pareto ? ' (Pareto)' : ''}`;
  series.push({
    label,
    dashed: pareto,
    points: lines.filter((l) => l['kind'] === 'eval').map((l) => ({ x: l['simTimeSec'] as number, y: l[metric === 'loss' ? 'evalLoss' : 'evalAccuracy'] as number })),
  });
  const s = JSON.parse(readFileSync(join(dir, r.run, 'summary.json'), 'utf8')) as { timeToTarget: { simTimeSec: number } | null; simTimeSec: number; finalLoss: number; finalAccuracy: number; totalBits: number };
  const entry = table.get(nameOf(r.optimizer)) ?? {};
  const final = metric === 'loss' ? s.finalLoss.toFixed(4) : `${(100 * s.finalAccuracy).toFixed(1)}%`;
  entry[pareto ? 'pareto' : 'exp'] = `${s.timeToTarget ? s.timeToTarget.simTimeSec.toFixed(3) : '—'} s (final ${final}, ${(s.totalBits / 1e6).toFixed(2)} Mbit)`;
  table.set(nameOf(r.optimizer), entry);
}
// The palette's ten colours cycle with the series index: pad each distribution's group to ten
// with empty, unlabelled series (kept out of the legend) so a method has one colour, solid and
// dashed. Both groups list the methods in the grid's order.
const PALETTE_SIZE = 10;
const padded: Series[] = [];
for (const pareto of [false, true]) {
  const group = series.filter((x) => Boolean(x.dashed) === pareto);
  padded.push(...group);
  for (let i = group.length; i % PALETTE_SIZE !== 0; i++) padded.push({ label: '', points: [] });
}
writeFileSync(
  out,
  renderLineChart({
    title: `${metric === 'loss' ? 'Linear regression' : 'Logistic regression'}, 8 workers: test ${metric} vs simulated time (solid: shifted-exponential, dashed: Pareto delays)`,
    xLabel: 'simulated time (s)',
    yLabel: metric === 'loss' ? 'test loss (log)' : 'test accuracy',
    logY: metric === 'loss',
    series: padded,
    width: 1100,
    height: 650,
  }),
);
process.stdout.write(`wrote ${out}\n\n| method | time to target, shifted-exponential | Pareto |\n|---|---|---|\n`);
for (const [name, e] of table) process.stdout.write(`| ${name} | ${e['exp'] ?? ''} | ${e['pareto'] ?? ''} |\n`);
