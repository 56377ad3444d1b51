import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { runExperiment } from '../../src/runtime/coordinator.ts';
import { NON_DETERMINISTIC_SUMMARY, type ReferenceCase } from './cases.ts';

export interface ReferenceResult {
  metrics: Record<string, unknown>[];
  summary: Record<string, unknown>;
}

/** Run a reference case in this process; metrics and summary without wall-clock fields. */
export async function runCase(root: string, rc: ReferenceCase): Promise<ReferenceResult> {
  const dir = join(mkdtempSync(join(tmpdir(), 'dtemu-ref-')), 'run');
  const lc = loadConfig(join(root, rc.file), { sets: rc.sets });
  await runExperiment(lc, { outDir: dir });
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const { wallTimeSec: _w, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  for (const k of NON_DETERMINISTIC_SUMMARY) delete summary[k];
  // Per-worker tfjs timings are wall clock too.
  for (const w of (summary['workers'] as Record<string, unknown>[] | undefined) ?? []) {
    delete w['gradWallSec'];
    delete w['gradCpuSec'];
  }
  return { metrics, summary };
}
