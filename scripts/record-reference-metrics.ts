// Rewrites test/fixtures/reference-metrics.json from the current code (test/reference/cases.ts).
// Run it only when a change is meant to alter metrics, and say so in the commit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_CASES } from '../test/reference/cases.ts';
import { runCase, type ReferenceResult } from '../test/reference/run-case.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out: Record<string, ReferenceResult> = {};
for (const rc of REFERENCE_CASES) {
  const t = Date.now();
  out[rc.name] = await runCase(root, rc);
  console.log(`${rc.name}: ${out[rc.name]!.metrics.length} lines, ${((Date.now() - t) / 1000).toFixed(2)} s`);
}
writeFileSync(join(root, 'test/fixtures/reference-metrics.json'), JSON.stringify(out) + '\n');
