import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in order of measured duration, longest first (test/durations.json, seconds per file
 * as scripts/test-durations.mjs writes them from a JSON report). With two workers taking files
 * from one queue, the longest-first order keeps both cores busy to the end; vitest's own order on
 * a fresh clone (no results cache: the largest files first) left a 90-second file for last.
 * A file missing from the table (a new one) goes first with its duration unknown, then the
 * results cache's duration of a local run, if any.
 */
export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    let table: Record<string, number> = {};
    try {
      table = JSON.parse(readFileSync(join(root, 'test', 'durations.json'), 'utf8')) as Record<string, number>;
    } catch {
      // No table: every file is unknown, and the cache or the path decides.
    }
    const seconds = (f: TestSpecification): number => {
      const rel = relative(root, f.moduleId).split('\\').join('/');
      const known = table[rel];
      if (typeof known === 'number') return known;
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`)?.duration;
      return cached === undefined ? Number.POSITIVE_INFINITY : cached / 1000;
    };
    const keyed = files.map((f) => ({ f, s: seconds(f), id: f.moduleId }));
    keyed.sort((a, b) => (a.s === b.s ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : b.s - a.s));
    return keyed.map((k) => k.f);
  }
}
