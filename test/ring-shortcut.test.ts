import { describe, expect, it } from 'vitest';
import { UniformRingAllReduce } from '../src/sim/uniform-ring-allreduce.ts';
import { mulberry32 } from './helpers/prng.ts';

/**
 * The exact O(n) ring all-reduce shortcut (src/sim/ring-allreduce-shortcut.ts) against the
 * step-by-step clock-array model (itself checked against NetworkModel in uniform-ring.test.ts):
 * the same doubles, bit for bit, for clocks and link occupancy, over worker counts, vector
 * lengths that n does or does not divide (shorter than n too), latency 0 and > 0, and start
 * times with stragglers and links still busy from the previous all-reduce.
 */
function pair(n: number, len: number, bandwidth: number, latency: number) {
  return { fast: new UniformRingAllReduce(n, len, bandwidth, latency), slow: new UniformRingAllReduce(n, len, bandwidth, latency) };
}

describe('exact ring all-reduce shortcut', () => {
  const cases: [number, number, number][] = [];
  for (const n of [2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100]) for (const len of [1, 5, 64, 1000, 101_770]) for (const latency of [0, 37e-6, 2e-3]) cases.push([n, len, latency]);
  it.each(cases)('n=%i, %i values, latency %d: identical clocks and link occupancy', (n, len, latency) => {
    const { fast, slow } = pair(n, len, 1e9, latency);
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    const rand = mulberry32(n * 131 + len * 7 + (latency > 0 ? 1 : 0));
    // Start well inside a binade, as a long run is (2^3 s): most all-reduces must take the shortcut.
    a.fill(8.000123);
    b.fill(8.000123);
    for (let round = 0; round < 6; round++) {
      const slowRank = Math.floor(rand() * n);
      for (let r = 0; r < n; r++) {
        // Shifted-exponential compute, a straggler, and sometimes almost nothing (the link is
        // still busy from the last round).
        let dt = rand() < 0.2 ? rand() * 1e-9 : 1e-3 - 5e-3 * Math.log(1 - rand());
        if (r === slowRank) dt += 0.05;
        a[r] = a[r]! + dt;
        b[r] = b[r]! + dt;
      }
      fast.run(a);
      slow.runStepByStep(b);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
    expect(fast.shortcut!.hits).toBeGreaterThanOrEqual(4);
    // The links' occupancy carried into the next all-reduce agrees too.
    const c = Float64Array.from(a);
    fast.run(a);
    slow.runStepByStep(c);
    expect(Array.from(a)).toEqual(Array.from(c));
  });

  it('hands back an all-reduce that crosses a power of two, a start at 0 or a tie, with nothing changed', () => {
    for (const [start, latency, bandwidth] of [[0, 1e-4, 1e9], [1.999, 1e-4, 1e9], [1, 2 ** -53, 1e9], [0.5, 0, 8]] as const) {
      const n = 9;
      const { fast, slow } = pair(n, 50, bandwidth, latency);
      const a = new Float64Array(n).fill(start);
      const b = Float64Array.from(a);
      fast.run(a);
      slow.runStepByStep(b);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(fast.shortcut!.misses).toBe(1);
      expect(fast.shortcut!.hits).toBe(0);
    }
  });

  it('equal starts: every node ends at the ring closed form 2(n-1)(a + M/(nB)) after the start (to rounding)', () => {
    for (const n of [2, 5, 12, 1000]) {
      const len = 1200;
      const ring = new UniformRingAllReduce(n, len * n, 1e9, 1e-5);
      const now = new Float64Array(n).fill(4.5);
      ring.run(now);
      expect(ring.shortcut!.hits).toBe(1);
      const closed = 2 * (n - 1) * (1e-5 + (len * 4 * 8) / 1e9);
      for (const t of now) expect(t - 4.5).toBeCloseTo(closed, 12);
    }
  });
});
