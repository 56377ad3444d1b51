import { describe, expect, it } from 'vitest';
import { LocalRingAllReduce } from '../comm/collectives/local-ring-allreduce.ts';
import { UniformRingAllReduce } from '../src/sim/uniform-ring-allreduce.ts';
import { inprocNet } from './helpers/inproc-net.ts';
import { mulberry32 } from './helpers/prng.ts';

/**
 * The time-only shortcut for ring all-reduce on identical links against the step-by-step model
 * (every message through NetworkModel, via the batched collective, itself checked against the
 * per-message ring in local-ring-allreduce.test.ts): equal clocks and byte counts, bit for bit.
 */
describe('uniform ring all-reduce timing', () => {
  const cases: [number, number, number][] = [];
  for (const n of [1, 2, 3, 5, 8, 13, 64]) for (const len of [0, 1, 7, 100, 1001]) for (const latency of [0, 50e-6]) cases.push([n, len, latency]);
  it.each(cases)('n=%i, %i values, latency %d: the same clocks and bytes as NetworkModel', async (n, len, latency) => {
    const bandwidth = 1e8;
    const { eps } = inprocNet(n, 'ring', bandwidth, latency);
    const local = new LocalRingAllReduce(n);
    const fast = new UniformRingAllReduce(n, len, bandwidth, latency);
    const now = new Float64Array(n);
    const rand = mulberry32(n * 7919 + len);
    for (let round = 0; round < 4; round++) {
      // Random compute between rounds (sometimes shorter than a chunk's serialization, so a
      // link still busy from the last round delays the next send).
      for (let r = 0; r < n; r++) {
        const dt = rand() < 0.3 ? rand() * 1e-7 : rand() * 1e-3;
        eps[r]!.now += dt;
        now[r] = now[r]! + dt;
      }
      await Promise.all(eps.map((ep) => local.allReduce(ep, new Float32Array(len))));
      fast.run(now);
      expect(Array.from(now)).toEqual(eps.map((ep) => ep.now));
    }
    expect(eps.map((ep) => ep.stats.bytesSent)).toEqual(Array.from(fast.bytesPerRank, (b) => 4 * b));
    expect(eps.map((ep) => ep.stats.messagesSent)).toEqual(eps.map(() => 4 * fast.messagesPerRank));
  });
});
