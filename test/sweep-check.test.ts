import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { tmp } from './helpers/cli.ts';

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
  it('validate and sweep locate a bad grid value at its grid entry; run says it runs the base point only', async () => {
    const dir = tmp();
    const file = join(dir, 'grid.yaml');
    writeFileSync(file, SWEEP);
    const where = `${file}:14:9: sweep point compressor=topk(2) seed=1: optimizer.compressor: expected a valid compressor`;
    const v = await dtemuHere(['validate', file]);
    expect(v.code).toBe(2);
    expect(v.stdout).toBe('');
    expect(v.stderr.trim().split('\n')).toHaveLength(1);
    expect(v.stderr).toContain(where);
    expect(v.stderr).toContain('got 2');
    const s = await dtemuHere(['sweep', file, '--out', join(dir, 'sweep')], true);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(where);
    expect(existsSync(join(dir, 'sweep'))).toBe(false);
    // A --set that fixes every point makes the sweep valid (it applies to every point).
    const fixed = await dtemuHere(['validate', file, '--set', 'sweep.grid={optimizer.lr: [0.05, 0.1]}']);
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toContain('; sweep of 4 points checked)');
    // A bad seed entry is located at the seed's line.
    writeFileSync(file, SWEEP.replace('seeds: [1, 2]', 'seeds:\n    - 1\n    - -3'));
    const badSeed = await dtemuHere(['validate', file]);
    expect(badSeed.code).toBe(2);
    expect(badSeed.stderr).toContain(`${file}:12:7: sweep.seeds.1: expected a number >= 0`);
    // run on a sweep file: one line on stderr, then the base point.
    writeFileSync(file, SWEEP.replace('ratio: 2.0', 'ratio: 0.5'));
    const r = await dtemuHere(['run', file, '--out', join(dir, 'base')], true);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dtemu:'))).toEqual([
      `dtemu: ${file} has a sweep block; running its base point only ('dtemu sweep ${file}' runs every point)`,
    ]);
  });
});

describe('a sweep meeting a run still going in one of its point directories', () => {
  it('does not delete it: that point fails naming the owner, its lock and files stay', async () => {
    const { mkdirSync, readFileSync } = await import('node:fs');
    const { hostname } = await import('node:os');
    const { runSweep, sweepPoints } = await import('../src/runtime/sweep.ts');
    const { loadConfig } = await import('../src/config/load.ts');
    const file = join(import.meta.dirname, 'fixtures', 'valid-tiny-sweep.yaml');
    const out = join(tmp(), 'sw');
    const [first, second] = sweepPoints(loadConfig(file));
    const busy = join(out, first!.id);
    mkdirSync(busy, { recursive: true });
    // A live owner (this process) holds the point's directory, as an orphaned point run would.
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), command: 'run', since: 'now' });
    writeFileSync(join(busy, '.dtemu.lock'), lock);
    writeFileSync(join(busy, 'metrics.jsonl'), '');
    const { rows } = await runSweep(file, { outDir: out });
    expect(rows[0]!.status).toBe('failed');
    expect(rows[0]!.error).toMatch(/is in use by dtemu run \(pid \d+ on /);
    expect(readFileSync(join(busy, '.dtemu.lock'), 'utf8')).toBe(lock);
    expect(existsSync(join(busy, 'metrics.jsonl'))).toBe(true);
    expect(rows[1]!.point.id).toBe(second!.id);
    expect(rows[1]!.status).toBe('completed');
  }, 120_000);
});

describe('an interrupted sweep over an earlier one', () => {
  it('leaves no sweep.csv of the earlier sweep standing (it described runs this one reruns)', async () => {
    const { mkdirSync } = await import('node:fs');
    const { runSweep } = await import('../src/runtime/sweep.ts');
    const file = join(import.meta.dirname, 'fixtures', 'valid-tiny-sweep.yaml');
    const out = join(tmp(), 'sw');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'sweep.csv'), 'run,optimizer.lr,seed,status\n001_lr=0.1,0.1,1,completed\n');
    // Interrupted at once (as Ctrl-C before any point ends).
    await expect(runSweep(file, { outDir: out, onAbortHook: (abort) => abort() })).rejects.toThrow(/sweep interrupted/);
    expect(existsSync(join(out, 'sweep.csv'))).toBe(false);
  });
});

describe('the default sweep directory', () => {
  it('is made from the name as a run directory is: a name like ../../x stays inside runs/', async () => {
    const { mkdirSync, readdirSync } = await import('node:fs');
    const { runSweep } = await import('../src/runtime/sweep.ts');
    const file = join(import.meta.dirname, 'fixtures', 'valid-tiny-sweep.yaml');
    const t = tmp();
    const cwd = process.cwd();
    mkdirSync(join(t, 'w'));
    process.chdir(join(t, 'w'));
    try {
      await expect(runSweep(file, { sets: ['name=../../escaped'], onAbortHook: (abort) => abort() })).rejects.toThrow(/sweep interrupted/);
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(t)).toEqual(['w']);
    expect(readdirSync(join(t, 'w', 'runs'))).toEqual(['__.._escaped-sweep']);
  });
});
