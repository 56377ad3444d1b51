import { describe, expect, it } from 'vitest';
import { ringAllGather } from '../comm/collectives/allgather.ts';
import { ringBroadcast } from '../comm/collectives/broadcast.ts';
import { ringReduceScatter } from '../comm/collectives/reduce-scatter.ts';
import { chunkStart } from '../comm/collectives/chunks.ts';
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import { psAllReduce, psServe } from '../comm/collectives/parameter-server.ts';
import { Rng } from '../src/util/rng.ts';
import { inprocNet } from './helpers/inproc-net.ts';

function randomVectors(n: number, len: number, seed: number): Float32Array[] {
  const rng = new Rng(seed, 'test-vectors', n, len);
  return Array.from({ length: n }, () => Float32Array.from({ length: len }, () => rng.normal()));
}

function serialSum(vs: Float32Array[]): Float64Array {
  const out = new Float64Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]!;
  return out;
}

function lengthsFor(n: number): number[] {
  return [...new Set([0, 1, Math.max(0, n - 1), 2, 7, 13, 101, 1009])];
}

describe('ring all-reduce', () => {
  for (let n = 1; n <= 9; n++) {
    it(`n=${n}: every rank ends identical and equal to the serial sum`, async () => {
      for (const len of lengthsFor(n)) {
        const vs = randomVectors(n, len, 7);
        const expected = serialSum(vs);
        const data = vs.map((v) => Float32Array.from(v));
        const { eps } = inprocNet(n);
        await Promise.all(eps.map((ep, r) => ringAllReduce(ep, data[r]!)));
        for (let r = 0; r < n; r++) {
          expect(Buffer.from(data[r]!.buffer).equals(Buffer.from(data[0]!.buffer))).toBe(true);
        }
        for (let i = 0; i < len; i++) expect(Math.abs(data[0]![i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 * n * (1 + Math.abs(expected[i]!)));
      }
    });
  }

  it('handles 1e6 floats over 5 workers', async () => {
    const n = 5;
    const len = 1_000_000;
    const vs = randomVectors(n, len, 3);
    const expected = serialSum(vs);
    const { eps } = inprocNet(n);
    await Promise.all(eps.map((ep, r) => ringAllReduce(ep, vs[r]!)));
    let maxErr = 0;
    for (let i = 0; i < len; i++) maxErr = Math.max(maxErr, Math.abs(vs[2]![i]! - expected[i]!));
    expect(maxErr).toBeLessThan(1e-5 * 20);
    expect(Buffer.from(vs[4]!.buffer).equals(Buffer.from(vs[0]!.buffer))).toBe(true);
  });

  it('sends exactly 2(n-1)/n of the vector per worker (payload bytes counted)', async () => {
    const n = 4;
    const len = 4000;
    const { eps } = inprocNet(n);
    const vs = randomVectors(n, len, 1);
    await Promise.all(eps.map((ep, r) => ringAllReduce(ep, vs[r]!)));
    for (const ep of eps) {
      expect(ep.stats.bytesSent).toBe((2 * (n - 1) * len * 4) / n);
      expect(ep.stats.messagesSent).toBe(2 * (n - 1));
      expect([...ep.stats.bytesTo.keys()]).toEqual([(ep.rank + 1) % n]);
    }
  });
});

describe('other collectives', () => {
  it('reduce-scatter leaves rank r owning the full sum of chunk (r+1) mod n', async () => {
    for (const n of [2, 3, 6]) {
      const len = 37;
      const vs = randomVectors(n, len, 11);
      const expected = serialSum(vs);
      const { eps } = inprocNet(n);
      const owned = await Promise.all(eps.map((ep, r) => ringReduceScatter(ep, vs[r]!)));
      owned.forEach((c, r) => {
        expect(c).toBe((r + 1) % n);
        for (let i = chunkStart(c, len, n); i < chunkStart(c + 1, len, n); i++) expect(vs[r]![i]!).toBeCloseTo(expected[i]!, 4);
      });
    }
  });

  it('all-gather returns every rank its peers\' variable-size payloads', async () => {
    for (const n of [1, 2, 5]) {
      const { eps } = inprocNet(n);
      const payloads = eps.map((_, r) => Uint8Array.from({ length: r * 3 + 1 }, (_, i) => (r * 31 + i) & 255));
      const got = await Promise.all(eps.map((ep, r) => ringAllGather(ep, payloads[r]!)));
      for (const g of got) expect(g.map((p) => Array.from(p))).toEqual(payloads.map((p) => Array.from(p)));
    }
  });

  it('broadcast from any root reaches everyone', async () => {
    const n = 5;
    for (let root = 0; root < n; root++) {
      const { eps } = inprocNet(n);
      const msg = Uint8Array.from([root, 1, 2, 3]);
      const got = await Promise.all(eps.map((ep, r) => ringBroadcast(ep, root, r === root ? msg : null)));
      for (const g of got) expect(Array.from(g)).toEqual(Array.from(msg));
    }
  });

  it('parameter-server all-reduce equals the rank-ordered sum on every worker', async () => {
    const n = 4;
    const vs = randomVectors(n, 99, 5);
    const expected = serialSum(vs);
    const { eps, server } = inprocNet(n, 'star');
    const serving = psServe(server!);
    await Promise.all(eps.map((ep, r) => psAllReduce(ep, vs[r]!)));
    server!.fail(new Error('done'));
    await serving;
    // Exactly the float32 sum accumulated in rank order, identical on every worker.
    const f32 = new Float32Array(99);
    for (let r = 0; r < n; r++) for (let i = 0; i < 99; i++) f32[i] = f32[i]! + randomVectors(n, 99, 5)[r]![i]!;
    for (let r = 0; r < n; r++) expect(Array.from(vs[r]!)).toEqual(Array.from(f32));
    expect(expected.length).toBe(99);
  });
});
