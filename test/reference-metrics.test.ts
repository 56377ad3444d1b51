import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';
import { REFERENCE_CASES, WS_CASES } from './reference/cases.ts';
import { runCase, type ReferenceResult } from './reference/run-case.ts';

/**
 * Every shipped experiment (short) gives exactly the metrics recorded before the algorithm layer
 * was refactored: every field of every metrics line but wall time, and the summary. Fields added
 * later (by other changes) are not compared; recorded ones must match to the last bit.
 */
const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/reference-metrics.json'), 'utf8')) as Record<string, ReferenceResult>;

function expectSame(got: ReferenceResult, want: ReferenceResult): void {
  expect(got.metrics.length).toBe(want.metrics.length);
  want.metrics.forEach((line, i) => {
    const g = got.metrics[i]!;
    for (const k of Object.keys(line)) expect({ line: i, key: k, value: g[k] }).toEqual({ line: i, key: k, value: line[k] });
  });
  for (const k of Object.keys(want.summary)) expect({ key: k, value: got.summary[k] }).toEqual({ key: k, value: want.summary[k] });
}

describe('reference metrics (recorded before the algorithm-layer refactor)', () => {
  it('every case of the fixture is still defined', () => {
    expect(REFERENCE_CASES.map((c) => c.name).sort()).toEqual(Object.keys(fixture).sort());
  });
  for (const rc of REFERENCE_CASES) {
    it(`${rc.name}: identical metrics in process`, async () => {
      expectSame(await runCase(ROOT, rc), fixture[rc.name]!);
    });
  }
  for (const rc of WS_CASES) {
    it(`${rc.name}: identical metrics over ws worker processes`, async () => {
      expectSame(await runCase(ROOT, rc), fixture[rc.name]!);
    });
  }
});
