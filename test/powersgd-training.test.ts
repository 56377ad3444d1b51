import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, json, tmp } from './helpers/cli.ts';

interface S {
  finalAccuracy: number;
  totalBits: number;
  powersgd?: { overallCompressionRatio: number; layers: { matrix: [number, number]; compressed: boolean; rank: number; compressionRatio: number }[] };
}

describe('PowerSGD on the Fashion-MNIST MLP', () => {
  it('rank 2 with error feedback is within 1 point of allreduce-sgd; without it, measurably worse; ratios as the formula says', () => {
    const base = tmp();
    const common = ['transport.kind=inproc', 'optimizer.lr=0.03', 'optimizer.momentum=0.9'];
    const run = (name: string, sets: string[]) => {
      const dir = join(base, name);
      const r = dtemu(['run', 'experiments/quickstart.yaml', '--out', dir, '--quiet', ...[...common, ...sets].flatMap((s) => ['--set', s])]);
      expect(r.stderr).toBe('');
      return json<S>(join(dir, 'summary.json'));
    };
    const dense = run('dense', []);
    const ef = run('ef', ['optimizer.kind=powersgd', 'optimizer.rank=2', 'optimizer.errorFeedback=ef']);
    const noef = run('noef', ['optimizer.kind=powersgd', 'optimizer.rank=2', 'optimizer.errorFeedback=none']);
    expect(ef.finalAccuracy).toBeGreaterThanOrEqual(dense.finalAccuracy - 0.01);
    expect(noef.finalAccuracy).toBeLessThan(ef.finalAccuracy - 0.01);
    // 784x128 and 128x10 kernels compressed at rank 2; the biases go dense.
    const layers = ef.powersgd!.layers;
    expect(layers.map((l) => l.compressed)).toEqual([true, false, true, false]);
    for (const l of layers.filter((x) => x.compressed)) {
      const [n, m] = l.matrix;
      expect(l.compressionRatio).toBeCloseTo((n * m) / ((n + m) * 2), 12);
    }
    // Bits: per step each worker all-reduces r(n+m) floats of P and Q plus the dense biases.
    const floats = 2 * (784 + 128) + 128 + 2 * (128 + 10) + 10;
    expect(ef.totalBits).toBe(600 * 4 * ((2 * 3) / 4) * floats * 4 * 8);
    expect(dense.totalBits / ef.totalBits).toBeCloseTo(ef.powersgd!.overallCompressionRatio, 6);
  });
});
