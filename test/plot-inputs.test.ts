import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curvesOf } from '../src/plot/plot-inputs.ts';
import { tmp } from './helpers/cli.ts';

describe('dtemu plot of a sweep directory', () => {
  it('keeps points from 1000 on (four-digit ids) and orders curves by point number', () => {
    const t = tmp('dtemu-plotin-');
    for (const id of ['999_lr=0.3', '1000_lr=0.4', '100_lr=0.2', '001_lr=0.1']) {
      mkdirSync(join(t, id));
      writeFileSync(join(t, id, 'metrics.jsonl'), JSON.stringify({ kind: 'eval', step: 1, simTimeSec: 1, wallTimeSec: 1, bits: 8, uplinkBits: 8, downlinkBits: 0, evalLoss: 1, evalAccuracy: 0.5 }) + '\n');
    }
    expect(curvesOf([t]).map((g) => g.label)).toEqual(['lr=0.1', 'lr=0.2', 'lr=0.3', 'lr=0.4']);
  });
});
