import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { json, metrics, tmp } from './helpers/cli.ts';

const FILE = 'experiments/gradient-coding/coded-vs-baselines.yaml';

async function run(dir: string, sets: string[]) {
  const r = await dtemuHere(['run', FILE, '--out', dir, '--quiet', ...['transport.kind=inproc', 'train.steps=150', ...sets].flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return {
    losses: metrics(dir)
      .filter((l) => l['kind'] === 'train')
      .map((l) => l['loss'] as number),
    summary: json<{ finalLoss: number; simTimeSec: number; totalBits: number; uplinkBits: number; downlinkBits: number }>(join(dir, 'summary.json')),
  };
}

describe('gradient coding against stragglers', () => {
  it('a coded run follows wait-for-all step by step (exact decoding) but finishes sooner under stragglers', async () => {
    const base = tmp();
    // Wait-for-all has no coding scheme: one run for both.
    const all = await run(join(base, 'all'), ['optimizer.strategy=wait-for-all']);
    for (const scheme of ['cyclic', 'fractional']) {
      const coded = await run(join(base, `coded-${scheme}`), ['optimizer.strategy=coded', `optimizer.scheme=${scheme}`]);
      // The train loss is the mean over all partitions either way; the models agree to float32 rounding.
      coded.losses.forEach((l, i) => expect(Math.abs(l - all.losses[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(l))));
      expect(Math.abs(coded.summary.finalLoss - all.summary.finalLoss)).toBeLessThan(1e-4);
      expect(coded.summary.simTimeSec).toBeLessThan(0.85 * all.summary.simTimeSec);
      // Same bytes per worker: one coded vector per step (uplink); the master's replies are the downlink.
      expect(coded.summary.uplinkBits).toBe(all.summary.uplinkBits);
      expect(coded.summary.totalBits).toBe(coded.summary.uplinkBits + coded.summary.downlinkBits);
    }
  });

  it('ignoring stragglers ends at a worse loss on non-iid partitions; replication costs s+1 times the bits', async () => {
    const base = tmp();
    // Label-sorted shards, and workers 0 and 1 are always the slowest: ignoring stragglers never
    // sees their data.
    const nonIid = ['data.partition=shards', 'data.shardsPerWorker=1', 'stragglers.delay={kind: shifted-exponential, shift: 50 ms, mean: 20 ms, workers: [0, 1]}'];
    const coded = await run(join(base, 'coded'), ['optimizer.strategy=coded', ...nonIid]);
    const ignore = await run(join(base, 'ignore'), ['optimizer.strategy=ignore-stragglers', ...nonIid]);
    const repl = await run(join(base, 'repl'), ['optimizer.strategy=replication', ...nonIid]);
    expect(ignore.summary.finalLoss).toBeGreaterThan(coded.summary.finalLoss + 0.01);
    expect(Math.abs(repl.summary.finalLoss - coded.summary.finalLoss)).toBeLessThan(1e-4);
    // Workers' pushes (uplink); the master's model broadcast (downlink) is the same for both.
    expect(repl.summary.uplinkBits).toBeCloseTo(3 * coded.summary.uplinkBits, -3);
    expect(repl.summary.downlinkBits).toBe(coded.summary.downlinkBits);
  });
});
