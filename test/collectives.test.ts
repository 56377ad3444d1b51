import { describe, expect, it } from 'vitest';
import type { CollectiveKind } from '../comm/collectives/choices.ts';
import { runSchedule } from '../comm/collectives/run-schedule.ts';
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';

const B = 10e9;
const a = 5e-6;
const lg = (n: number) => Math.log2(n);

/** The alpha-beta closed forms (Thakur, Rabenseifner & Gropp 2005; Patarasuk & Yuan 2009). */
function closedForm(kind: CollectiveKind, n: number, M: number): number {
  const beta = 8 / B;
  const p = 2 ** Math.floor(lg(n));
  const fold = p === n ? 0 : 2 * (a + M * beta);
  switch (kind) {
    case 'ring':
      return 2 * (n - 1) * (a + (M * beta) / n);
    case 'tree':
      return 2 * Math.ceil(lg(n)) * (a + M * beta);
    case 'recursive-doubling':
      return Math.log2(p) * (a + M * beta) + fold;
    case 'halving-doubling':
      return 2 * Math.log2(p) * a + (2 * (p - 1) * M * beta) / p + fold;
    default:
      throw new Error(kind);
  }
}

const SIZES = [8, 1000, 65536, 1e6, 100e6];
const FLAT: CollectiveKind[] = ['ring', 'tree', 'recursive-doubling', 'halving-doubling'];

describe('collectives on a uniform switch reproduce their closed forms', () => {
  for (const kind of FLAT) {
    it(`${kind}: n = 2..17, 8 B .. 100 MB, to 1e-12 (time-only, max-min and fifo)`, () => {
      for (let n = 2; n <= 17; n++) {
        const sw = buildTopology('switch', n, { bandwidth: B, latency: a });
        for (const M of SIZES) {
          const s = allReduceSchedule(kind, n, M / 4, {}, exactCut);
          const want = closedForm(kind, n, M);
          for (const sharing of ['max-min', 'fifo'] as const) {
            const got = timeSchedule(sw, s, 0, sharing).makespan;
            expect(Math.abs(got - want) / want, `${kind} n=${n} M=${M} ${sharing}`).toBeLessThan(1e-12);
          }
        }
      }
    });
  }
});

function net(topo: Topology) {
  const router = new InprocRouter();
  const n = topo.workers;
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo));
    router.attach(ep);
    return ep;
  });
  return eps;
}

/** Small integers: every summation order gives the exact serial sum in float32. */
function vectors(n: number, len: number): Float32Array[] {
  return Array.from({ length: n }, (_, r) => Float32Array.from({ length: len }, (_, i) => ((r * 7 + i * 3) % 11) - 5));
}

describe('collectives move real bytes: every rank ends with the serial sum, timed as the time-only path', () => {
  for (const kind of FLAT) {
    it(`${kind}: n = 2..17`, async () => {
      for (let n = 2; n <= 17; n++) {
        const sw = buildTopology('switch', n, { bandwidth: B, latency: a });
        for (const len of [1, 2, n + 3, 100]) {
          const vs = vectors(n, len);
          const sum = new Float32Array(len);
          for (const v of vs) for (let i = 0; i < len; i++) sum[i] += v[i]!;
          const s = allReduceSchedule(kind, n, len);
          const eps = net(sw);
          const entry = eps.map((_, r) => (r % 3) * 1e-4);
          eps.forEach((ep, r) => (ep.now = entry[r]!));
          await Promise.all(eps.map((ep, r) => runSchedule(ep, vs[r]!, s, 1)));
          for (let r = 0; r < n; r++) expect([...vs[r]!], `${kind} n=${n} len=${len} rank ${r}`).toEqual([...sum]);
          const t = timeSchedule(sw, s, entry, 'fifo');
          expect(eps.map((ep) => ep.now), `${kind} n=${n} len=${len}`).toEqual([...t.finish]);
        }
      }
    });
  }

  it('hierarchical on 2 and 3 islands matches intra-reduce + inter all-reduce + intra-broadcast by hand', async () => {
    const intra = { bandwidth: 100e9, latency: 2e-6 };
    const inter = { bandwidth: 1e9, latency: 50e-3 };
    for (const groups of [[4, 4], [3, 3, 3], [2, 5]]) {
      const n = groups.reduce((x, y) => x + y, 0);
      const topo = buildTopology('hierarchical', n, intra, { groups, intra, inter });
      const G = groups.length;
      for (const M of [8, 4096, 1e6, 100e6]) {
        const s = allReduceSchedule('hierarchical', n, M / 4, { groups: topo.groups! }, exactCut);
        const hop = intra.latency + (8 * M) / intra.bandwidth;
        const depth = Math.max(...groups.map((g) => Math.ceil(lg(g))));
        // Leader to leader: up-i (a_intra/2), g->h (a_inter), down-j (a_intra/2), at the WAN's rate.
        const wan = 2 * (G - 1) * (intra.latency + inter.latency + (8 * M) / G / inter.bandwidth);
        const want = 2 * depth * hop + wan;
        for (const sharing of ['max-min', 'fifo'] as const) {
          const got = timeSchedule(topo, s, 0, sharing).makespan;
          expect(Math.abs(got - want) / want, `${groups} M=${M} ${sharing}`).toBeLessThan(1e-12);
        }
      }
      const len = 37;
      const vs = vectors(n, len);
      const sum = new Float32Array(len);
      for (const v of vs) for (let i = 0; i < len; i++) sum[i] += v[i]!;
      const s = allReduceSchedule('hierarchical', n, len, { groups: topo.groups! });
      const eps = net(topo);
      await Promise.all(eps.map((ep, r) => runSchedule(ep, vs[r]!, s, 1)));
      for (let r = 0; r < n; r++) expect([...vs[r]!]).toEqual([...sum]);
      // Only the leaders' ring crosses the WAN: 2(G-1) messages per leader, none from the others.
      const crossing = eps.flatMap((ep, r) => [...ep.stats.bytesTo.keys()].filter((to) => topo.route(r, to).some((l) => l.id.startsWith('g'))).map(() => r));
      expect(new Set(crossing)).toEqual(new Set(topo.groups!.map((g) => g[0]!)));
    }
  });

  it('2d-ring on a torus: 2(X-1)(a + M/(XB)) + 2(Y-1)(a + M/(XYB)), real sums', async () => {
    for (const dims of [[2, 2], [4, 4], [3, 5], [4, 2]]) {
      const [X, Y] = dims as [number, number];
      const n = X * Y;
      const topo = buildTopology('torus', n, { bandwidth: B, latency: a }, { dims });
      for (const M of [8, 1e6, 100e6]) {
        const s = allReduceSchedule('2d-ring', n, M / 4, { dims }, exactCut);
        const want = 2 * (X - 1) * (a + (8 * M) / (X * B)) + 2 * (Y - 1) * (a + (8 * M) / (X * Y * B));
        const got = timeSchedule(topo, s, 0).makespan;
        expect(Math.abs(got - want) / want, `${dims} M=${M}`).toBeLessThan(1e-12);
      }
      const len = 29;
      const vs = vectors(n, len);
      const sum = new Float32Array(len);
      for (const v of vs) for (let i = 0; i < len; i++) sum[i] += v[i]!;
      const eps = net(topo);
      await Promise.all(eps.map((ep, r) => runSchedule(ep, vs[r]!, allReduceSchedule('2d-ring', n, len, { dims }), 1)));
      for (let r = 0; r < n; r++) expect([...vs[r]!]).toEqual([...sum]);
    }
  });
});

describe('collectives timed as a unit under max-min sharing', () => {
  it('contending flows (halving-doubling on an oversubscribed tree) share uplinks; bytes as sent, entry times as metadata', async () => {
    const n = 8;
    const topo = buildTopology('tree', n, { bandwidth: B, latency: a }, { arity: 2, oversubscription: 4 });
    const len = 4096;
    const s = allReduceSchedule('halving-doubling', n, len);
    const entry = Array.from({ length: n }, (_, r) => (r % 3) * 1e-5);
    const vs = vectors(n, len);
    const sum = new Float32Array(len);
    for (const v of vs) for (let i = 0; i < len; i++) sum[i] += v[i]!;
    const eps = net(topo);
    eps.forEach((ep, r) => (ep.now = entry[r]!));
    const { runScheduleAsUnit } = await import('../comm/collectives/run-schedule.ts');
    await Promise.all(eps.map((ep, r) => runScheduleAsUnit(ep, vs[r]!, s, 1, (e) => timeSchedule(topo, s, e, 'max-min'))));
    for (let r = 0; r < n; r++) expect([...vs[r]!]).toEqual([...sum]);
    const maxmin = timeSchedule(topo, s, entry, 'max-min');
    expect(eps.map((ep) => ep.now)).toEqual([...maxmin.finish]);
    // Contention is real here: the per-sender message model lets flows through uplinks at full rate.
    expect(maxmin.makespan).toBeGreaterThan(timeSchedule(topo, s, entry, 'fifo').makespan * 1.1);
    // Payload bytes only: every transfer's floats, no entry-time metadata.
    const sent = eps.reduce((x, ep) => x + ep.stats.bytesSent, 0);
    const expected = s.rounds.flatMap((r) => r.transfers).reduce((x, t) => x + (t.end - t.start) * 4, 0);
    expect(sent).toBe(expected);
  });
});

describe('all-gather of variable payloads by recursive doubling', () => {
  it('n = 1..17: every rank gets every payload in at most lg p + 1 messages', async () => {
    const { recursiveDoublingAllGather } = await import('../comm/collectives/allgather-recursive-doubling.ts');
    for (let n = 1; n <= 17; n++) {
      const eps = net(buildTopology('switch', n, { bandwidth: B, latency: a }));
      const payloads = eps.map((_, r) => Uint8Array.from({ length: (r * 5) % 7 }, (_, i) => r * 16 + i));
      const got = await Promise.all(eps.map((ep, r) => recursiveDoublingAllGather(ep, payloads[r]!)));
      for (const g of got) expect(g.map((x) => [...x])).toEqual(payloads.map((x) => [...x]));
      const p = 2 ** Math.floor(Math.log2(n));
      for (const ep of eps) expect(ep.stats.messagesSent).toBeLessThanOrEqual(Math.log2(p) + 1);
    }
  });
});

describe('double binary tree', () => {
  it('every rank ends with the serial sum (n = 2..17), unit-timed like the time-only path; hand-computed times for n = 2, 3', async () => {
    const { runScheduleAsUnit } = await import('../comm/collectives/run-schedule.ts');
    for (let n = 2; n <= 17; n++) {
      const sw = buildTopology('switch', n, { bandwidth: B, latency: a });
      const len = 2 * n + 1;
      const vs = vectors(n, len);
      const sum = new Float32Array(len);
      for (const v of vs) for (let i = 0; i < len; i++) sum[i] += v[i]!;
      const s = allReduceSchedule('double-tree', n, len);
      const eps = net(sw);
      const entry = eps.map((_, r) => (r % 2) * 1e-5);
      eps.forEach((ep, r) => (ep.now = entry[r]!));
      await Promise.all(eps.map((ep, r) => runScheduleAsUnit(ep, vs[r]!, s, 1, (e) => timeSchedule(sw, s, e, 'max-min'))));
      for (let r = 0; r < n; r++) expect([...vs[r]!], `n=${n} rank ${r}`).toEqual([...sum]);
      expect(eps.map((ep) => ep.now)).toEqual([...timeSchedule(sw, s, entry, 'max-min').finish]);
    }
    const M = 1e6;
    const beta = 8 / B;
    // n = 2: 1->0 and 0->1 (half each) up, then back down: 2(a + M/2 beta).
    const t2 = timeSchedule(buildTopology('switch', 2, { bandwidth: B, latency: a }), allReduceSchedule('double-tree', 2, M / 4, {}, exactCut), 0).makespan;
    expect(Math.abs(t2 - 2 * (a + (M / 2) * beta)) / t2).toBeLessThan(1e-12);
    // n = 3: in each round every busy NIC carries two halves at B/2: 2 rounds of a + M beta
    // (the binomial tree needs 4).
    const t3 = timeSchedule(buildTopology('switch', 3, { bandwidth: B, latency: a }), allReduceSchedule('double-tree', 3, M / 4, {}, exactCut), 0).makespan;
    expect(Math.abs(t3 - 2 * (a + M * beta)) / t3).toBeLessThan(1e-12);
  });
});
