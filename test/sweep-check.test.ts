import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, tmp } from './helpers/cli.ts';

const SWEEP = `name: gridcheck
seed: 5
workers: 2
data: { dataset: blobs, samples: 400, testSamples: 100, features: 8, classes: 3, batchSize: 16 }
model: { kind: mlp, hidden: [8] }
optimizer: { kind: compressed-sgd, lr: 0.05, compressor: { kind: topk, ratio: 0.1 } }
transport: { kind: inproc }
train: { steps: 4, evalEvery: 2 }
sweep:
  seeds: [1, 2]
  grid:
    optimizer.compressor:
      - { kind: topk, ratio: 0.1 }
      - { kind: topk, ratio: 2.0 }
`;

describe('sweep files', () => {
  it('validate and sweep locate a bad grid value at its grid entry; run says it runs the base point only', () => {
    const dir = tmp();
    const file = join(dir, 'grid.yaml');
    writeFileSync(file, SWEEP);
    const where = `${file}:14:9: sweep point compressor=topk(2) seed=1: optimizer.compressor: expected a valid compressor`;
    const v = dtemu(['validate', file]);
    expect(v.code).toBe(2);
    expect(v.stdout).toBe('');
    expect(v.stderr.trim().split('\n')).toHaveLength(1);
    expect(v.stderr).toContain(where);
    expect(v.stderr).toContain('got 2');
    const s = dtemu(['sweep', file, '--out', join(dir, 'sweep')]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(where);
    expect(existsSync(join(dir, 'sweep'))).toBe(false);
    // A --set that fixes every point makes the sweep valid (it applies to every point).
    const fixed = dtemu(['validate', file, '--set', 'sweep.grid={optimizer.lr: [0.05, 0.1]}']);
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toContain('; sweep of 4 points checked)');
    // A bad seed entry is located at the seed's line.
    writeFileSync(file, SWEEP.replace('seeds: [1, 2]', 'seeds:\n    - 1\n    - -3'));
    const badSeed = dtemu(['validate', file]);
    expect(badSeed.code).toBe(2);
    expect(badSeed.stderr).toContain(`${file}:12:7: sweep.seeds.1: expected a number >= 0`);
    // run on a sweep file: one line on stderr, then the base point.
    writeFileSync(file, SWEEP.replace('ratio: 2.0', 'ratio: 0.5'));
    const r = dtemu(['run', file, '--out', join(dir, 'base')]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dtemu:'))).toEqual([
      `dtemu: ${file} has a sweep block; running its base point only ('dtemu sweep ${file}' runs every point)`,
    ]);
  });
});
