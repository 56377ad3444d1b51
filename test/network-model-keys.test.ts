import { describe, expect, it } from 'vitest';
import { NetworkModel } from '../src/sim/network-model.ts';
import { ringTopology } from '../topologies/ring.ts';

describe('network model past 4,096 nodes', () => {
  it('keeps the routes and link occupancy of distinct pairs apart', () => {
    // With keys from * 4096 + to, (0 -> 4096) and (1 -> 0) shared one cache slot, so the
    // one-hop message 1 -> 0 was timed over the 4,096-hop route computed before it.
    const n = 5000;
    const spec = { bandwidth: 1e9, latency: 1e-5 };
    const bytes = 1000;
    const hop = spec.latency + (bytes * 8) / spec.bandwidth;
    const net = new NetworkModel(ringTopology(n, spec));
    const far = net.estimate(0, 4096, bytes, 0);
    expect(far).toBeCloseTo(4096 * hop, 9);
    expect(net.estimate(1, 0, bytes, 0)).toBeCloseTo(hop, 12);
    // Occupancy keys (link index * base + sender) for senders beyond 4,096: the same message on a
    // fresh model takes the same time.
    const a = net.transmit(4097, 4098, bytes, 0);
    const b = new NetworkModel(ringTopology(n, spec)).transmit(4097, 4098, bytes, 0);
    expect(a).toBe(b);
  });
});
