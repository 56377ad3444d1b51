import { describe, expect, it } from 'vitest';
import { simulateFlows, type FlowRequest } from '../src/sim/flow-sim.ts';
import { maxMinRates } from '../src/sim/max-min.ts';
import { switchTopology } from '../topologies/switch.ts';
import type { Link, Topology } from '../topologies/topology.ts';

/** A hand-made topology: named links and explicit routes per (from, to). */
function custom(links: Link[], routes: Record<string, string[]>): Topology {
  const byId = new Map(links.map((l) => [l.id, l]));
  return { kind: 'custom', workers: 8, hasServer: false, forwarding: 'cut', links, route: (a, b) => (routes[`${a}>${b}`] ?? []).map((id) => byId.get(id)!) };
}
const link = (id: string, bandwidth: number, latency: number): Link => ({ id, bandwidth, latency, shared: false });
const flow = (from: number, to: number, bytes: number, ready = 0, deps: number[] = []): FlowRequest => ({ from, to, bytes, ready, deps });
const rel = (x: number, y: number) => Math.abs(x - y) / Math.abs(y);

describe('max-min flow simulator', () => {
  const a = 1e-4;
  const B = 8e9;
  const one = custom([link('L', B, a)], { '0>1': ['L'], '2>1': ['L'], '3>1': ['L'] });

  it('one flow on a link takes a + 8m/B', () => {
    for (const m of [8, 1000, 12345, 1e8]) {
      const t = simulateFlows(one, [flow(0, 1, m, 0.5)]);
      expect(t.arrival[0]).toBe(0.5 + (8 * m) / B + a);
    }
  });

  it('k equal flows started together on one link each take a + 8km/B', () => {
    for (const k of [2, 3, 5, 8]) {
      const m = 1e6;
      const t = simulateFlows(one, Array.from({ length: k }, () => flow(0, 1, m)));
      for (let i = 0; i < k; i++) expect(rel(t.arrival[i]!, a + (8 * k * m) / B)).toBeLessThan(1e-12);
    }
  });

  it('n workers sending m bytes each into one NIC of a switch finish at a + 8nm/B', () => {
    for (const n of [2, 4, 7, 16]) {
      const sw = switchTopology(n + 1, { bandwidth: B, latency: a });
      const m = 4e6;
      const t = simulateFlows(sw, Array.from({ length: n }, (_, i) => flow(i + 1, 0, m)));
      for (let i = 0; i < n; i++) expect(rel(t.arrival[i]!, a + (8 * n * m) / B)).toBeLessThan(1e-12);
      // Fifo (the per-sender message model) lets them all through at full rate: no contention.
      const f = simulateFlows(sw, Array.from({ length: n }, (_, i) => flow(i + 1, 0, m)), 'fifo');
      for (let i = 0; i < n; i++) expect(rel(f.arrival[i]!, a + (8 * m) / B)).toBeLessThan(1e-12);
    }
  });

  it('a flow that starts while another is half done: both at B/2, then the second alone', () => {
    const m = 1e6;
    const T = (8 * m) / B;
    const t = simulateFlows(one, [flow(0, 1, m, 0), flow(2, 1, m, T / 2)]);
    // First: half alone (T/2), the other half at B/2 (T): ends at 1.5T. Second: m/2 sent by
    // 1.5T at B/2, the rest alone at B (T/2): ends at 2T.
    expect(rel(t.arrival[0]!, 1.5 * T + a)).toBeLessThan(1e-12);
    expect(rel(t.arrival[1]!, 2 * T + a)).toBeLessThan(1e-12);
  });

  it('max-min rates match a hand-computed example with three links and four flows', () => {
    // L1 = 10, L2 = 4, L3 = 6; f1: L1, f2: L1+L2, f3: L2+L3, f4: L3.
    // L2 is the tightest (4/2 = 2): f2 = f3 = 2; then L3 has 4 left for f4, L1 has 8 left for f1.
    const routes = [Int32Array.of(0), Int32Array.of(0, 1), Int32Array.of(1, 2), Int32Array.of(2)];
    const rate = new Float64Array(4);
    const scratch = { cap: new Float64Array(3), count: new Int32Array(3), touched: new Int32Array(3), newly: new Int32Array(4) };
    maxMinRates(routes, Float64Array.of(10, 4, 6), rate, scratch);
    expect([...rate]).toEqual([8, 2, 2, 4]);
    // The same through the simulator: 8 bits each (so every flow's time is 8/rate), no latency.
    const topo = custom([link('L1', 10, 0), link('L2', 4, 0), link('L3', 6, 0)], { '0>1': ['L1'], '2>3': ['L1', 'L2'], '4>5': ['L2', 'L3'], '6>7': ['L3'] });
    const t = simulateFlows(topo, [flow(0, 1, 1), flow(2, 3, 1), flow(4, 5, 1), flow(6, 7, 1)]);
    // f1 at 8 ends at 1; then f2 still at 2 (L2-limited), f4 at 4 ends at 2; f2, f3 at 2 end at 4.
    expect([...t.arrival]).toEqual([1, 4, 4, 2]);
  });

  it('dependencies: a flow starts when the flows it waits for have arrived', () => {
    const t = simulateFlows(one, [flow(0, 1, 1000), flow(2, 1, 1000, 0, [0])]);
    expect(t.start[1]).toBe(t.arrival[0]);
    expect(t.arrival[1]).toBe(t.arrival[0]! + 8000 / B + a);
  });
});

describe('bandwidth traces', () => {
  it('a flow crossing a trace breakpoint runs at each segment rate; a message takes the rate at its start', async () => {
    const { NetworkModel } = await import('../src/sim/network-model.ts');
    const l: Link = { id: 'L', bandwidth: 8e6, latency: 1e-3, shared: false, trace: { times: [1, 2], bandwidth: [4e6, 16e6], latency: [null, 5e-3] } };
    const topo = custom([l], { '0>1': ['L'] });
    // 1 MB = 8e6 bits from t = 0.5: 0.5 s at 8 Mb/s (4e6 bits), then 1 s at 4 Mb/s (4e6 bits):
    // the last bit leaves at 2, when the latency is 5 ms.
    const t = simulateFlows(topo, [flow(0, 1, 1e6, 0.5)]);
    expect(t.end[0]).toBeCloseTo(2, 12);
    expect(t.arrival[0]).toBeCloseTo(2.005, 12);
    // From 1.8: 0.2 s at 4 Mb/s (0.8e6 bits), the remaining 7.2e6 bits at 16 Mb/s: 0.45 s; latency 5 ms then.
    const u = simulateFlows(topo, [flow(0, 1, 1e6, 1.8)]);
    expect(u.end[0]).toBeCloseTo(2.45, 12);
    expect(u.arrival[0]).toBeCloseTo(2.455, 12);
    // The message model takes the segment in force when the message starts.
    expect(new NetworkModel(topo).transmit(0, 1, 1e6, 1.5)).toBe(1.5 + 8e6 / 4e6 + 1e-3);
  });
});
