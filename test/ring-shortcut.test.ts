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

  it('random configurations, binary-exact values (ties) included: identical to the step-by-step model', () => {
    const rand = mulberry32(2026);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    let jumped = 0;
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(rand() * 60);
      const len = pick([1, 2, n - 1, n, n + 1, 3 * n + 2, 1 + Math.floor(rand() * 5000)]);
      const bandwidth = pick([2 ** 30, 1e9, 1e8, 8e6, 2 ** 20 * 3, 1e10 * rand() + 1]);
      const latency = pick([0, 2 ** -20, 2 ** -10, 1e-6, 5e-5, 1e-3 * rand()]);
      const { fast, slow } = pair(n, len, bandwidth, latency);
      const a = new Float64Array(n).fill(pick([0, 2 ** -8, 0.3, 1, 7.99, 1024]));
      const b = Float64Array.from(a);
      for (let round = 0; round < 5; round++) {
        for (let r = 0; r < n; r++) {
          const dt = pick([0, 2 ** -12, rand() * 1e-4, rand() * 1e-2]);
          a[r] = a[r]! + dt;
          b[r] = b[r]! + dt;
        }
        fast.run(a);
        slow.runStepByStep(b);
        expect(Array.from(a), `trial ${trial}: n ${n} len ${len} B ${bandwidth} a ${latency} round ${round}`).toEqual(Array.from(b));
      }
      jumped += fast.shortcut!.hits;
    }
    // Most all-reduces take closed-form jumps only.
    expect(jumped).toBeGreaterThan(60 * 5 * 0.5);
  });

  it('steps across a power of two, a start at 0, a tie or an all-reduce spanning many binades, and still agrees', () => {
    for (const [start, latency, bandwidth, len] of [[0, 1e-4, 1e9, 50], [1.999, 1e-4, 1e9, 50], [1, 2 ** -53, 1e9, 50], [0.5, 0, 8, 50], [3.9999, 2e-6, 1e8, 5000], [1e-3, 5e-5, 1e9, 101_770]] as const) {
      for (const n of [9, 40]) {
        const { fast, slow } = pair(n, len, bandwidth, latency);
        const a = new Float64Array(n).fill(start);
        for (let r = 0; r < n; r += 3) a[r] = a[r]! + r * 1e-6; // a spread that straddles the boundary for a while
        const b = Float64Array.from(a);
        for (let round = 0; round < 3; round++) {
          fast.run(a);
          slow.runStepByStep(b);
          expect(Array.from(a), `start ${start} n ${n} round ${round}`).toEqual(Array.from(b));
        }
        expect(fast.shortcut!.misses, `start ${start} n ${n}`).toBeGreaterThanOrEqual(1);
        // Stepping is the exception even then: far fewer phases than 3 all-reduces of 2(n-1).
        if (start !== 0.5 && start !== 1) expect(fast.shortcut!.steppedPhases, `start ${start} n ${n}`).toBeLessThan(3 * (2 * n - 3));
      }
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

describe('dtemu simulate past 64 workers (the shortcut) equals a full emulation', () => {
  it('96 workers, ring all-reduce SGD with stragglers: identical simTimeSec, bits and timeline', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { loadConfig } = await import('../src/config/load.ts');
    const { runExperiment } = await import('../src/runtime/coordinator.ts');
    const { metrics, tmp } = await import('./helpers/cli.ts');
    const base = tmp();
    const sets = ['transport.kind=inproc', 'workers=96', 'train.steps=6', 'train.evalEvery=3', 'data.batchSize=4'];
    const out = async (timeOnly: boolean) => {
      const dir = join(base, timeOnly ? 'simulate' : 'run');
      const { summary } = await runExperiment(loadConfig('test/fixtures/tiny-blobs.yaml', { sets }), { outDir: dir, timeOnly });
      const lines = metrics(dir).map((l) => [l['kind'], l['step'], l['simTimeSec'], l['bits']]);
      return { summary, lines, timeline: readFileSync(join(dir, 'timeline.jsonl'), 'utf8') };
    };
    const run = await out(false);
    const sim = await out(true);
    expect(sim.summary.simTimeSec).toBe(run.summary.simTimeSec);
    expect(sim.summary.totalBits).toBe(run.summary.totalBits);
    expect(sim.lines).toEqual(run.lines);
    expect(sim.timeline).toBe(run.timeline);
    expect(sim.timeline.split('\n').filter((l) => l).length).toBe(6 * 96);
  }, 120_000);
});
