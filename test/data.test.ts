import { describe, expect, it } from 'vitest';
import { BatchSampler } from '../src/train/data/batch-sampler.ts';
import { findFashionMnist, loadFashionMnist, parseIdx } from '../src/train/data/fashion-mnist.ts';
import { partitionIndices } from '../src/train/data/partition.ts';
import { makeSynthetic } from '../src/train/data/synthetic.ts';
import { Rng } from '../src/util/rng.ts';

function idx(dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const dv = new DataView(head.buffer);
  dv.setUint8(2, 0x08);
  dv.setUint8(3, dims.length);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  return Uint8Array.from([...head, ...data]);
}

describe('IDX parsing', () => {
  it('reads dims and bytes, rejects wrong magic and wrong sizes', () => {
    const r = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'x');
    expect(r.dims).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(Uint8Array.from([0, 0, 9, 1, 0, 0, 0, 1, 5]), 'f.gz')).toThrow(/f.gz: not an unsigned-byte IDX/);
    expect(() => parseIdx(idx([2, 3], [1, 2]), 'g.gz')).toThrow(/g.gz: expected 6 data bytes/);
  });

  // .ci/run installs the data set; without it this test fails rather than silently skipping.
  it('loads Fashion-MNIST: 60k/10k, 28x28, 10 balanced classes', () => {
    expect(findFashionMnist()).not.toBeNull();
    const ds = loadFashionMnist();
    expect(ds.train.n).toBe(60000);
    expect(ds.test.n).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const y of ds.train.y) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(6000));
  });
});

describe('partitions', () => {
  const n = 1200;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 6);
  for (const workers of [1, 3, 7]) {
    for (const spec of [{ kind: 'iid' as const }, { kind: 'dirichlet' as const, alpha: 0.3 }, { kind: 'shards' as const, shardsPerWorker: 2 }]) {
      it(`${spec.kind} over ${workers} workers covers every sample exactly once, deterministically`, () => {
        const parts = partitionIndices(n, labels, 6, workers, spec, 4);
        expect(parts).toHaveLength(workers);
        const all = parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(partitionIndices(n, labels, 6, workers, spec, 4)).toEqual(parts);
        if (spec.kind === 'iid') for (const p of parts) expect(Math.abs(p.length - n / workers)).toBeLessThanOrEqual(1);
        if (spec.kind === 'shards' && workers === 3) {
          // 6 shards of 200 label-sorted samples: each worker sees at most 2 or 3 labels.
          for (const p of parts) expect(new Set(Array.from(p, (i) => labels[i])).size).toBeLessThanOrEqual(3);
        }
      });
    }
  }

  it('small Dirichlet alpha skews label distributions far more than a large one', () => {
    const skew = (alpha: number) => {
      const parts = partitionIndices(n, labels, 6, 4, { kind: 'dirichlet', alpha }, 9);
      let tv = 0;
      for (const p of parts) {
        const c = new Array(6).fill(0);
        for (const i of p) c[labels[i]!]++;
        for (const k of c) tv += Math.abs(k / Math.max(1, p.length) - 1 / 6);
      }
      return tv / 4;
    };
    expect(skew(0.05)).toBeGreaterThan(3 * skew(100));
  });
});

describe('synthetic data and sampling', () => {
  it('is a pure function of the seed', () => {
    const spec = { kind: 'linear' as const, samples: 50, testSamples: 10, features: 3, classes: 2, noise: 0.1 };
    expect(makeSynthetic(spec, 1).train.x).toEqual(makeSynthetic(spec, 1).train.x);
    expect(makeSynthetic(spec, 1).train.x).not.toEqual(makeSynthetic(spec, 2).train.x);
  });

  it('the batch sampler visits every shard sample once per epoch', () => {
    const shard = Int32Array.from({ length: 10 }, (_, i) => 100 + i);
    const s = new BatchSampler(shard, 5, 3, 0);
    const epoch = [...s.next(), ...s.next()].sort((a, b) => a - b);
    expect(epoch).toEqual(Array.from(shard));
  });

  it('rng streams: uniform mean, normal variance, gamma mean', () => {
    const r = new Rng(1, 'stats');
    let u = 0;
    let v = 0;
    let g = 0;
    const N = 50000;
    for (let i = 0; i < N; i++) {
      u += r.next();
      const z = r.normal();
      v += z * z;
      g += r.gamma(0.5);
    }
    expect(u / N).toBeCloseTo(0.5, 2);
    expect(v / N).toBeCloseTo(1, 1);
    expect(g / N).toBeCloseTo(0.5, 1);
  });
});
