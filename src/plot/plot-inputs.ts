import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../util/user-error.ts';
import { readMetrics } from './run-plots.ts';
import type { CurveGroup } from './seed-aggregate.ts';

/** A sweep's run directories are named NNN_<label>[_seed=S] (runtime/sweep.ts; 1000 and on: four digits or more). */
const SWEEP_RUN = /^\d{3,}_(.*?)(?:_?seed=-?\d+)?$/;

/** Sweep run directories in point order (numerically: 1000_ after 999_, not after 100_). */
const byIndex = (a: string, b: string) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * `dtemu plot` inputs -> curve groups: a run directory is one curve; a sweep directory gives one
 * curve per grid combination, its seeds grouped (drawn as mean and band). `labels`, if given,
 * rename the curves in order.
 */
export function curvesOf(paths: string[], labels: string[] = []): CurveGroup[] {
  const groups: CurveGroup[] = [];
  for (const p of paths) {
    const dir = resolve(p);
    if (existsSync(join(dir, 'metrics.jsonl'))) {
      groups.push({ label: basename(dir), runs: [readMetrics(dir)] });
      continue;
    }
    const runs = existsSync(dir) ? readdirSync(dir).filter((d) => SWEEP_RUN.test(d) && existsSync(join(dir, d, 'metrics.jsonl'))).sort(byIndex) : [];
    if (runs.length === 0) throw new UserError(`${p}: not a run directory (no metrics.jsonl) nor a sweep directory (no NNN_* runs with metrics.jsonl)`);
    const byPoint = new Map<string, CurveGroup>();
    for (const d of runs) {
      const label = SWEEP_RUN.exec(d)![1]!.replace(/_/g, ' ') || 'base';
      let g = byPoint.get(label);
      if (!g) byPoint.set(label, (g = { label, runs: [] }));
      g.runs.push(readMetrics(join(dir, d)));
    }
    groups.push(...byPoint.values());
  }
  if (labels.length > 0) {
    if (labels.length !== groups.length) {
      throw new UserError(`plot --label: expected ${groups.length} labels (one per curve: ${groups.map((g) => g.label).join(', ')}), found ${labels.length}`);
    }
    labels.forEach((l, i) => (groups[i]!.label = l));
  }
  return groups;
}
