// Rewrites test/fixtures/reference-metrics.json from the current code (test/reference/cases.ts).
// Run it only when a change is meant to alter metrics, and say so in the commit.
// With case names as arguments it records only those (the others stay byte for byte) and prints
// each one's final simTimeSec before and after.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_CASES } from '../test/reference/cases.ts';
import { runCase, type ReferenceResult } from '../test/reference/run-case.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = join(root, 'test/fixtures/reference-metrics.json');
const only = process.argv.slice(2);
const unknown = only.filter((n) => !REFERENCE_CASES.some((c) => c.name === n));
if (unknown.length > 0) throw new Error(`unknown reference case(s): ${unknown.join(', ')}`);
const old: Record<string, ReferenceResult> = only.length > 0 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, ReferenceResult>) : {};
const out: Record<string, ReferenceResult> = { ...old };
for (const rc of REFERENCE_CASES) {
  if (only.length > 0 && !only.includes(rc.name)) continue;
  const t = Date.now();
  out[rc.name] = await runCase(root, rc);
  const sim = (r: ReferenceResult | undefined) => r?.summary['simTimeSec'];
  console.log(`${rc.name}: ${out[rc.name]!.metrics.length} lines, ${((Date.now() - t) / 1000).toFixed(2)} s; simTimeSec ${sim(old[rc.name])} -> ${sim(out[rc.name])}`);
}
writeFileSync(file, JSON.stringify(out) + '\n');
