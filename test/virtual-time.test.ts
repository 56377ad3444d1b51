import { describe, expect, it } from 'vitest';
import { psAllReduce, psServe } from '../comm/collectives/parameter-server.ts';
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { StragglerModel } from '../src/sim/stragglers.ts';
import { ringTopology } from '../topologies/ring.ts';
import { inprocNet } from './helpers/inproc-net.ts';

const B = 1e9; // bits/s
const a = 50e-6; // s

/** Relative closeness: the closed form and the simulation sum the same terms in another order. */
function expectTime(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
}

describe('network model closed forms', () => {
  it('one message of m bytes on a link takes a + 8m/B', () => {
    const net = new NetworkModel(ringTopology(3, { bandwidth: B, latency: a }));
    expect(net.transmit(0, 1, 1000, 2)).toBe(2 + a + 8000 / B);
    // The link is busy serialising until 2 + 8000/B: a second message queues behind the first.
    expectTime(net.transmit(0, 1, 1000, 2), 2 + 2 * (8000 / B) + a);
  });

  for (const n of [2, 3, 4, 5, 8]) {
    it(`ring all-reduce of M bytes over n=${n} takes 2(n-1)(a + M/(nB))`, async () => {
      const len = n * 1000; // divisible: equal chunks
      const M = len * 4;
      const { eps } = inprocNet(n, 'ring', B, a);
      const data = eps.map(() => new Float32Array(len).fill(1));
      await Promise.all(eps.map((ep, r) => ringAllReduce(ep, data[r]!)));
      const want = 2 * (n - 1) * (a + (8 * M) / (n * B));
      for (const ep of eps) expectTime(ep.now, want);
    });

    it(`one worker of n=${n} delayed by d delays completion by exactly d`, async () => {
      const len = n * 500;
      const M = len * 4;
      for (const late of [0, n - 1]) {
        const d = 0.0137;
        const { eps } = inprocNet(n, 'ring', B, a);
        eps[late]!.now = d;
        const data = eps.map(() => new Float32Array(len).fill(1));
        await Promise.all(eps.map((ep, r) => ringAllReduce(ep, data[r]!)));
        const done = Math.max(...eps.map((e) => e.now));
        expectTime(done, d + 2 * (n - 1) * (a + (8 * M) / (n * B)));
      }
    });

    it(`a star round (n=${n}) with a shared server link takes 2(a + nM/B)`, async () => {
      const len = 2500;
      const M = len * 4;
      const { eps, server } = inprocNet(n, 'star', B, a);
      const serving = psServe(server!);
      const data = eps.map(() => new Float32Array(len).fill(1));
      await Promise.all(eps.map((ep, r) => psAllReduce(ep, data[r]!)));
      server!.fail(new Error('done'));
      await serving;
      expectTime(Math.max(...eps.map((e) => e.now)), 2 * (a + (8 * n * M) / B));
      expect(data[0]![0]).toBe(n);
    });
  }

  it('contending pushes are served in virtual send order, whatever the wall-clock order', async () => {
    const n = 4;
    const len = 1000;
    const s = (8 * len * 4) / B; // serialisation of one push: 32 us
    const delta = 5e-6; // pushes 5 us apart: they queue on the shared ingress
    const runOnce = async (order: number[]) => {
      const { eps, server } = inprocNet(n, 'star', B, a);
      // Higher ranks send earlier in virtual time, so rank order != send order.
      eps.forEach((ep, r) => (ep.now = (n - 1 - r) * delta));
      const serving = psServe(server!);
      const data = eps.map(() => new Float32Array(len).fill(1));
      const ps: Promise<void>[] = [];
      for (const r of order) {
        ps.push(psAllReduce(eps[r]!, data[r]!));
        await new Promise((res) => setTimeout(res, 1));
      }
      await Promise.all(ps);
      server!.fail(new Error('done'));
      await serving;
      return eps.map((e) => e.now);
    };
    const a1 = await runOnce([3, 1, 0, 2]);
    expect(await runOnce([0, 1, 2, 3])).toEqual(a1);
    // Ingress FIFO in send order: push k (sent at k*delta) finishes at max(k*delta, end_{k-1}) + s.
    let end = 0;
    for (let k = 0; k < n; k++) end = Math.max(k * delta, end) + s;
    const ready = end + a;
    // Replies leave in rank order over the egress link: rank r's arrives at ready + (r+1)s + a.
    a1.forEach((t, r) => expectTime(t, ready + (r + 1) * s + a));
    expect(ready).toBeGreaterThan(n * s); // the queueing really happened
  });
});

describe('straggler model', () => {
  it('constant slowdown multiplies, shifted-exponential delays have the right mean and shift', () => {
    const m = new StragglerModel({ slow: [{ worker: 1, factor: 3 }], delay: { kind: 'shifted-exponential', shift: 0.01, mean: 0.02 } }, 9);
    expect(m.slowdown(1)).toBe(3);
    expect(m.slowdown(0)).toBe(1);
    let sum = 0;
    let min = Infinity;
    const N = 20000;
    for (let s = 0; s < N; s++) {
      const d = m.delay(2, s);
      sum += d;
      min = Math.min(min, d);
    }
    expect(min).toBeGreaterThanOrEqual(0.01);
    expect(sum / N).toBeGreaterThan(0.03 - 0.001);
    expect(sum / N).toBeLessThan(0.03 + 0.001);
    // Same (worker, step) gives the same delay whatever was drawn before.
    expect(m.delay(2, 17)).toBe(new StragglerModel({ slow: [], delay: { kind: 'shifted-exponential', shift: 0.01, mean: 0.02 } }, 9).delay(2, 17));
  });
});
