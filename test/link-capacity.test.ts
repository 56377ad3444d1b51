import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { runLinkTraffic } from '../src/plot/link-traffic.ts';
import { FaultSchedule, type Fault } from '../src/sim/faults.ts';
import { capacityBits, realBandwidthAt } from '../src/sim/link-capacity.ts';
import { linkUtilization } from '../src/sim/link-utilization.ts';
import { buildTopology } from '../topologies/index.ts';

/**
 * report.html's busy fraction and the utilization curves divide by what a link could really
 * carry: the integral of its bandwidth over the window, with its trace and its link faults
 * (piecewise constant, so exact), not the configured bandwidth times the window.
 */
const B = 1e6;
const event = (worker: number, transfers: [number, number, number, number | null][]): TimelineEvent => ({ worker, step: 1, start: 0, computeEnd: 0, delayEnd: 0, end: 0, transfers });
const trace = (link: string, times: number[], bandwidth: number[]) => ({ path: [], link, trace: { times, bandwidth, latency: times.map(() => null) } });
const linkFault = (link: string, bandwidth: number | null, at: number, dur: number | null, latency: number | null = null): Fault => ({ kind: 'link', link, bandwidth, latency, at, for: dur });

describe('what a link can carry over a window', () => {
  it('a trace halving the bandwidth for the second half of a 2 s run: 1.5 B s, and the busy fraction over that', () => {
    const ring = buildTopology('ring', 4, { bandwidth: B, latency: 0 }, { traces: [trace('0->1', [1], [B / 2])] });
    const l = ring.links.find((x) => x.id === '0->1')!;
    expect(capacityBits(l, null, 0, 2)).toBe(1.5 * B);
    // 1500 bytes on 0->1 in a 2 s run: 12,000 bits of 1.5e6 possible, exactly 0.008 (not 12,000 / 2e6).
    const r = runLinkTraffic(ring, [event(0, [[1, 1500, 0.1, 0.2]]), event(1, [[2, 1500, 0.1, 0.2]])], [], 2, 4)!;
    const by = Object.fromEntries(r.links.map((x) => [x.link, x.busy]));
    expect(by['0->1']).toBe(12000 / 1.5e6);
    // 1->2 has no trace: the configured bandwidth over the window.
    expect(by['1->2']).toBe(12000 / 2e6);
  });

  it('link faults: a quarter of the bandwidth for 0.5 s, a fault in force over the trace, latency-only faults change nothing', () => {
    const ring = buildTopology('ring', 4, { bandwidth: B, latency: 0 }, { traces: [trace('1->2', [1], [B / 2])] });
    const l01 = ring.links.find((x) => x.id === '0->1')!;
    const l12 = ring.links.find((x) => x.id === '1->2')!;
    const faults = new FaultSchedule([linkFault('0->1', B / 4, 0.5, 0.5), linkFault('1->2', 2 * B, 1.5, null), linkFault('0->1', null, 0, null, 0.01)]);
    // 0->1: B for 0.5 s, B/4 for 0.5 s, B for 1 s.
    expect(capacityBits(l01, faults, 0, 2)).toBe(0.5 * B + 0.125 * B + B);
    // 1->2: B until 1 s (configured), B/2 from the trace until 1.5 s, then the fault's 2B.
    expect(capacityBits(l12, faults, 0, 2)).toBe(B + 0.25 * B + B);
    expect([0.99, 1.2, 1.6].map((t) => realBandwidthAt(l12, faults, t))).toEqual([B, B / 2, 2 * B]);
    // A window inside one stretch, and an empty one.
    expect(capacityBits(l01, faults, 0.6, 0.8)).toBeCloseTo(0.05 * B, 6);
    expect(capacityBits(l01, faults, 1, 1)).toBe(0);
    const r = runLinkTraffic(ring, [event(0, [[1, 1625, 0, 2]])], [], 2, 4, 8, faults)!;
    expect(r.links[0]!.busy).toBe(13000 / (1.625 * B));
  });
});

describe('utilization over time against the real bandwidth', () => {
  const m = 125000; // T = 1 s at B
  const T = (8 * m) / B;
  const flow = { from: 0, to: 1, bytes: m, ready: 0, deps: [] as number[] };

  it('a trace halving the bottleneck at T/2: the flow fills it all the way (utilization 1, not 1/2), the other end shows 1/2', () => {
    const sw = buildTopology('switch', 2, { bandwidth: B, latency: 0 }, { traces: [trace('up-0', [T / 2], [B / 2])] });
    const by = Object.fromEntries(linkUtilization(sw, [flow], 4).map((u) => [u.link, u]));
    // Half the bits at B by T/2, the other half at B/2: ends at 1.5T.
    expect(by['up-0']!.times).toEqual([0, T / 2, 1.5 * T]);
    expect(by['up-0']!.value).toEqual([1, 1, 0]);
    expect(by['down-1']!.times).toEqual([0, T / 2, 1.5 * T]);
    expect(by['down-1']!.value).toEqual([1, 0.5, 0]);
    expect(by['up-0']!.bits).toBe(8 * m);
  });

  it('a link whose bandwidth changes under a steady load gets a point there; the busiest link is the one longest at full use', () => {
    // The flow runs at B (up-0) for T; down-1 doubles to 2B at T/4: its utilization drops to 1/2 then.
    const sw = buildTopology('switch', 2, { bandwidth: B, latency: 0 }, { traces: [trace('down-1', [T / 4], [2 * B])] });
    const usage = linkUtilization(sw, [flow], 4);
    expect(usage.map((u) => u.link).slice(0, 2)).toEqual(['up-0', 'down-1']);
    expect(usage[1]!.times).toEqual([0, T / 4, T]);
    expect(usage[1]!.value).toEqual([1, 0.5, 0]);
    // The same drop from a link fault, given to the simulation and the normalisation alike.
    const plain = buildTopology('switch', 2, { bandwidth: B, latency: 0 });
    const withFault = linkUtilization(plain, [flow], 4, new FaultSchedule([linkFault('down-1', 2 * B, T / 4, null)]));
    expect(withFault[1]).toEqual(usage[1]);
  });
});
