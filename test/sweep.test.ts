import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, dtemuAsync, tmp } from './helpers/cli.ts';

const SWEEP = `name: three
seed: 5
workers: 2
data: { dataset: blobs, samples: 2000, testSamples: 500, features: 8, classes: 3, batchSize: 16 }
model: { kind: mlp, hidden: [16] }
optimizer: { kind: compressed-sgd, lr: 0.05, compressor: { kind: topk, ratio: 0.1 } }
transport: { kind: inproc }
train: { steps: 400, evalEvery: 100 }
sweep:
  grid:
    optimizer.compressor: [{ kind: topk, ratio: 0.1 }, { kind: sign }, { kind: fp16 }]
`;

describe('dtemu sweep', () => {
  it('makes one run directory per point, a CSV row each and overlay plots; a rerun after an interruption completes only what was missing', async () => {
    const dir = tmp();
    const file = join(dir, 'three.yaml');
    writeFileSync(file, SWEEP);
    const out = join(dir, 'sweep');

    // Interrupt once the first run is complete.
    const child = dtemuAsync(['sweep', file, '--out', out]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const first = () => readdirSync(out).find((d) => d.startsWith('001_'));
    const deadline = Date.now() + 90_000;
    while (!(existsSync(out) && first() && existsSync(join(out, first()!, 'summary.json')))) {
      if (Date.now() > deadline) throw new Error('first run did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    expect(existsSync(join(out, 'sweep.csv'))).toBe(false);
    const firstSummary = join(out, first()!, 'summary.json');
    const mtime = statSync(firstSummary).mtimeMs;

    const r = dtemu(['sweep', file, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[1/3] compressor=topk(0.1): skipped (done before)');
    expect(statSync(firstSummary).mtimeMs).toBe(mtime);
    const runs = readdirSync(out).filter((d) => /^\d{3}_/.test(d)).sort();
    expect(runs).toEqual(['001_compressor=topk(0.1)', '002_compressor=sign', '003_compressor=fp16']);
    for (const d of runs) expect(JSON.parse(readFileSync(join(out, d, 'manifest.json'), 'utf8')).status).toBe('completed');

    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toBe('run,optimizer.compressor,seed,status,finalAccuracy,finalLoss,totalBits,peakStepBits,simTimeSec,wallTimeSec,timeToTargetSimSec,timeToTargetBits');
    expect(csv[1]).toMatch(/^001_compressor=topk\(0\.1\),topk\(0\.1\),5,skipped \(done before\),/);
    expect(csv[2]).toMatch(/^002_compressor=sign,sign,5,completed,/);
    // fp16 sends half of fp32 plus headers; sign sends ~1 bit per element: far fewer bits.
    const bits = csv.slice(1).map((l) => Number(l.split(',')[6]));
    expect(bits[1]).toBeLessThan(bits[2]! / 8);
    // A changed experiment invalidates earlier results: every point runs again.
    writeFileSync(file, SWEEP.replace('steps: 400', 'steps: 300'));
    const again = dtemu(['sweep', file, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('[1/3] compressor=topk(0.1): completed');
    expect(again.stderr).not.toContain('skipped');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('002_compressor=sign');
    const png = readFileSync(join(out, 'plots', 'accuracy_vs_bits.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // The config a run resolved is its point, without the sweep block.
    expect(readFileSync(join(out, runs[1]!, 'config.yaml'), 'utf8')).not.toContain('sweep');
    expect(readFileSync(join(out, runs[1]!, 'config.yaml'), 'utf8')).toMatch(/compressor:\n\s+kind: sign/);
  });

  it('a bad grid value exits 2 before any run starts', () => {
    const dir = tmp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, SWEEP.replace('{ kind: fp16 }', '{ kind: fp8 }'));
    const r = dtemu(['sweep', file, '--out', join(dir, 'sweep')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // Located at the grid entry, not at the base point or at a --set.
    expect(r.stderr).toContain(`${file}:11:72: sweep point compressor=fp8: optimizer.compressor.kind: expected one of`);
    expect(r.stderr).toContain('found "fp8"');
    expect(existsSync(join(dir, 'sweep'))).toBe(false);
  });
});
