import { describe, expect, it } from 'vitest';
import type { CollectiveKind } from '../comm/collectives/choices.ts';
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { FaultSchedule, type Fault } from '../src/sim/faults.ts';
import { simulateFlows, type FlowRequest } from '../src/sim/flow-sim.ts';
import { buildTopology } from '../topologies/index.ts';

/**
 * Link faults and partitions inside the flow simulation (what unit-timed collectives on
 * switches, trees, tori, hierarchical and graph topologies run on): a fault's bandwidth is a
 * rate change at its start and end, a partition stalls the flows it cuts until it heals.
 */
const B = 1e9;
const a = 1e-4;
const m = 125000; // 1 ms at B
const T = (8 * m) / B;
const sw = buildTopology('switch', 4, { bandwidth: B, latency: a });
const flow = (from: number, to: number, ready = 0): FlowRequest => ({ from, to, bytes: m, ready, deps: [] });
const run = (flows: FlowRequest[], faults: Fault[]) => simulateFlows(sw, flows, 'max-min', undefined, new FaultSchedule(faults));
const link = (id: string, bandwidth: number | null, at: number, dur: number | null, latency: number | null = null): Fault => ({ kind: 'link', link: id, bandwidth, latency, at, for: dur });
const rel = (x: number, y: number) => Math.abs(x - y) / y;

describe('link faults in the flow simulation', () => {
  it('a bandwidth drop during a flow: half at B, a quarter during the fault at B/4, the rest at B', () => {
    const t = run([flow(0, 1)], [link('up-0', B / 4, T / 2, T)]);
    expect(rel(t.end[0]!, 1.75 * T)).toBeLessThan(1e-12);
    expect(rel(t.arrival[0]!, 1.75 * T + a)).toBeLessThan(1e-12);
    // Without an end the fault lasts: the other half at B/4 takes 2T.
    expect(rel(run([flow(0, 1)], [link('up-0', B / 4, T / 2, null)]).arrival[0]!, 2.5 * T + a)).toBeLessThan(1e-12);
  });

  it('a faulted link is shared as any: two flows through it get B/8 each, a third elsewhere runs at B', () => {
    // up-0 at B/4 from 0: flows 0->1 and 0->2 share it (B/8 each, 8T); 3->1 shares down-1 with
    // 0->1 only while that one is limited to B/8 upstream: max-min gives 3->1 the remaining 7B/8.
    const t = run([flow(0, 1), flow(0, 2), flow(3, 1)], [link('up-0', B / 4, 0, null)]);
    expect(rel(t.end[0]!, 8 * T)).toBeLessThan(1e-12);
    expect(rel(t.end[1]!, 8 * T)).toBeLessThan(1e-12);
    expect(rel(t.end[2]!, (8 / 7) * T)).toBeLessThan(1e-12);
  });

  it('a latency fault in force when the last bit leaves sets the route latency then', () => {
    const t = run([flow(0, 1)], [link('down-1', null, 0, 2 * T, 5e-3)]);
    expect(rel(t.arrival[0]!, T + a / 2 + 5e-3)).toBeLessThan(1e-12);
    // Over before the last bit leaves: the link's own latency.
    expect(rel(run([flow(0, 1)], [link('down-1', null, 0, T / 2, 5e-3)]).arrival[0]!, T + a)).toBeLessThan(1e-12);
  });
});

describe('partitions in the flow simulation', () => {
  const D = 0.01;
  const cut: Fault = { kind: 'partition', workers: [0], at: T / 2, for: D };

  it('a flow across a partition stalls where it is and resumes when it heals; same-side flows go on', () => {
    const t = run([flow(0, 1), flow(1, 2), flow(2, 3, T)], [cut]);
    expect(rel(t.arrival[0]!, T + D + a)).toBeLessThan(1e-12);
    expect(rel(t.arrival[1]!, T + a)).toBeLessThan(1e-12);
    expect(rel(t.arrival[2]!, 2 * T + a)).toBeLessThan(1e-12);
  });

  it('a flow that becomes ready during a partition waits for the heal, then shares as usual', () => {
    // 3->0 ready at T inside the cut: starts at T/2 + D; 1->0 ready then too: both at B/2 on down-0.
    const t = run([flow(3, 0, T), flow(1, 0, T / 2 + D)], [cut]);
    expect(rel(t.arrival[0]!, T / 2 + D + 2 * T + a)).toBeLessThan(1e-12);
    expect(rel(t.arrival[1]!, T / 2 + D + 2 * T + a)).toBeLessThan(1e-12);
    expect(t.start[0]).toBe(T);
  });
});

describe('unit-timed collectives under faults', () => {
  const kinds: CollectiveKind[] = ['ring', 'tree', 'recursive-doubling', 'halving-doubling'];
  it('every up link at B/2 for the whole run: each collective takes its closed form at B/2', () => {
    for (const n of [3, 4, 7]) {
      const full = buildTopology('switch', n, { bandwidth: B, latency: a });
      const half = buildTopology('switch', n, { bandwidth: B / 2, latency: a });
      const faults = new FaultSchedule(Array.from({ length: n }, (_, i) => link(`up-${i}`, B / 2, 0, null)));
      for (const kind of kinds) {
        const s = allReduceSchedule(kind, n, 250000, {}, exactCut);
        const want = timeSchedule(half, s, 0, 'max-min').makespan;
        expect(rel(timeSchedule(full, s, 0, 'max-min', 4, faults).makespan, want), `${kind} n=${n}`).toBeLessThan(1e-12);
        // fifo replays messages with the fault in force at each one's start: the same here.
        expect(rel(timeSchedule(full, s, 0, 'fifo', 4, faults).makespan, want), `${kind} n=${n} fifo`).toBeLessThan(1e-12);
      }
    }
  });

  it('a partition of one rank for D during a ring all-reduce delays it by D (its transfers are on the critical path)', () => {
    for (const n of [3, 5]) {
      const topo = buildTopology('switch', n, { bandwidth: B, latency: a });
      const s = allReduceSchedule('ring', n, n * 25000, {}, exactCut);
      const base = timeSchedule(topo, s, 0, 'max-min').makespan;
      const D = 0.02;
      // Cut at 0 (before any flow starts): every rank waits for rank 0's first transfers.
      const late = timeSchedule(topo, s, 0, 'max-min', 4, new FaultSchedule([{ kind: 'partition', workers: [0], at: 0, for: D }])).makespan;
      expect(rel(late, base + D)).toBeLessThan(1e-12);
    }
  });
});
