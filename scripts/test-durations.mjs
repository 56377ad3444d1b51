// Writes test/durations.json (seconds per test file, longest first) from vitest JSON reports, for
// the slowest-first sequencer (test/helpers/slowest-first-sequencer.ts). Usage, after a full run
// under CI=true (which writes test-results.json):
//   node scripts/test-durations.mjs test-results.json [more reports...] > test/durations.json
// With several reports, a file's duration is its median over them.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const reports = process.argv.slice(2);
if (reports.length === 0) {
  process.stderr.write('usage: node scripts/test-durations.mjs <vitest JSON report>... > test/durations.json\n');
  process.exit(2);
}
const root = process.cwd();
const seen = new Map();
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const r of report.testResults ?? []) {
    if (typeof r.name !== 'string' || !Number.isFinite(r.startTime) || !Number.isFinite(r.endTime)) continue;
    const rel = relative(root, r.name).split('\\').join('/');
    if (!seen.has(rel)) seen.set(rel, []);
    seen.get(rel).push((r.endTime - r.startTime) / 1000);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [...seen].map(([f, xs]) => [f, Math.round(median(xs) * 10) / 10]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
process.stdout.write('{\n' + rows.map(([f, s]) => `  ${JSON.stringify(f)}: ${s}`).join(',\n') + '\n}\n');
