import { describe, expect, it } from 'vitest';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { receivePushes } from '../comm/collectives/server-ingress.ts';
import type { Sharing } from '../src/sim/flow-sim.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { starTopology } from '../topologies/star.ts';

/**
 * Which pushes a master's `accept` sees first (receivePushes): the first k by virtual arrival.
 * On a star with a port per worker (shared: false) a slow port makes the earliest sender arrive
 * last; on the shared FIFO port arrival order is send order.
 */
const B = 1e9;
const a = 50e-6;
const m = 1e5;
const T = (8 * m) / B;

async function round(n: number, sharing: Sharing, shared: boolean, sendAt: number[], slow: Record<number, number> = {}) {
  const topo = starTopology(n, { bandwidth: B, latency: a }, { shared });
  for (const [r, f] of Object.entries(slow)) topo.links.find((l) => l.id === `server-in-${r}`)!.bandwidth = B / f;
  const router = new InprocRouter();
  const make = (r: number) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo, null, sharing));
    router.attach(ep);
    return ep;
  };
  const eps = Array.from({ length: n }, (_, r) => make(r));
  const server = make(n);
  const seen: { k: number; r: number; at: number }[] = [];
  const got = receivePushes(server, eps.map((_, r) => r), 7, (k, at, _taken, push) => {
    seen.push({ k, r: push.r, at });
    return k < n - 1;
  });
  for (const [r, ep] of eps.entries()) {
    ep.now = sendAt[r]!;
    ep.send(n, 7, 0, new Uint8Array(m));
  }
  return { pushes: (await got)!, seen };
}

describe('receivePushes: the first k by virtual arrival', () => {
  for (const sharing of ['fifo', 'max-min'] as const) {
    it(`${sharing}, shared: false with a 100x slower port for worker 0: it sent first, arrives last, and is the one left out`, async () => {
      // Worker 0 sends at 0 (arrives at 100T + a), workers 1..3 at T, 2T, 3T (arrive T later + a).
      const { pushes, seen } = await round(4, sharing, false, [0, T, 2 * T, 3 * T], { 0: 100 });
      expect(seen.map((s) => s.r)).toEqual([1, 2, 3, 0]);
      expect(seen.map((s) => s.k)).toEqual([0, 1, 2, 3]);
      expect(Math.abs(seen[3]!.at - (100 * T + a))).toBeLessThan(1e-15);
      expect(pushes.map((p) => p.used)).toEqual([false, true, true, true]);
      // Arrival times as the senders' ports timed them: 2T + a, 3T + a, 4T + a.
      for (const r of [1, 2, 3]) expect(Math.abs(pushes[r]!.at - ((r + 1) * T + a))).toBeLessThan(1e-15);
    });
  }

  it('fifo, shared port: pushes are served and arrive in send order (ties by rank), so k counts arrivals there too', async () => {
    const { pushes, seen } = await round(4, 'fifo', true, [3 * T, 0, 0, T]);
    expect(seen.map((s) => s.r)).toEqual([1, 2, 3, 0]);
    const at = seen.map((s) => s.at);
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThan(at[i - 1]!);
    // FIFO: T + a, 2T + a, 3T + a; worker 0 (sent at 3T) is the fourth and not taken.
    expect(pushes.map((p) => p.used)).toEqual([false, true, true, true]);
    expect(Math.abs(pushes[3]!.at - (3 * T + a))).toBeLessThan(1e-15);
  });
});
