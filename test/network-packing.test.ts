import { describe, expect, it } from 'vitest';
import { allReduce, type CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { applicableCollectives } from '../comm/collectives/schedules/index.ts';
import type { CollectiveChoice } from '../comm/collectives/choices.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology, type TopologyKind, type TopologyOptions } from '../topologies/index.ts';

/**
 * Process packing cannot change timing: every topology and collective, run with one network
 * model shared by all endpoints (one process), one per endpoint (one process each) and one per
 * block of ranks, under max-min (unit-timed) and fifo (message-timed), gives the same clocks
 * and the same sums. (The ws transport adds only serialization, checked end to end in
 * network-determinism.test.ts.)
 */
const n = 6;
const spec = { bandwidth: 1e9, latency: 1e-4 };
const TOPOS: [TopologyKind, TopologyOptions][] = [
  ['ring', {}],
  ['switch', { nodes: { '2': { bandwidth: 1e7 } } }],
  ['tree', { arity: 2, oversubscription: 2 }],
  ['torus', { dims: [2, 3] }],
  ['hierarchical', { groups: [2, 4], inter: { bandwidth: 1e8, latency: 1e-2 } }],
  ['graph', { generate: { kind: 'exponential' } }],
];

async function run(topo: Topology, collective: CollectiveChoice, sharing: 'max-min' | 'fifo', blocks: number): Promise<{ now: number[]; data: number[][] }> {
  const shape = { ...(topo.groups ? { groups: topo.groups } : {}), ...(topo.dims ? { dims: topo.dims } : {}) };
  const o: CollectiveOptions = {
    collective,
    shape,
    estimate: (s) => timeSchedule(topo, s, 0, sharing).makespan,
    ...(sharing === 'max-min' ? { timeAsUnit: (s, e) => timeSchedule(topo, s, e, 'max-min') } : {}),
  };
  const router = new InprocRouter();
  const models = Array.from({ length: blocks }, () => new NetworkModel(topo));
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, models[Math.floor((r * blocks) / n)]!);
    router.attach(ep);
    ep.now = (r % 3) * 3e-4;
    return ep;
  });
  const data = eps.map((_, r) => Float32Array.from({ length: 50 }, (_, i) => (r + i) % 5));
  // Two calls in a row: the second starts from the first's staggered finish times.
  for (let k = 0; k < 2; k++) await Promise.all(eps.map((ep, r) => allReduce(ep, data[r]!, o)));
  return { now: eps.map((ep) => ep.now), data: data.map((d) => [...d]) };
}

describe('process packing cannot change timing', () => {
  for (const [kind, opts] of TOPOS) {
    it(`${kind}: every applicable collective, max-min and fifo, 1 / 2 / ${n} models`, async () => {
      const topo = buildTopology(kind, n, spec, opts);
      const shape = { ...(topo.groups ? { groups: topo.groups } : {}), ...(topo.dims ? { dims: topo.dims } : {}) };
      for (const collective of [...applicableCollectives(shape, n), 'auto'] as CollectiveChoice[]) {
        for (const sharing of ['max-min', 'fifo'] as const) {
          const one = await run(topo, collective, sharing, 1);
          expect(await run(topo, collective, sharing, 2), `${kind} ${collective} ${sharing}`).toEqual(one);
          expect(await run(topo, collective, sharing, n), `${kind} ${collective} ${sharing}`).toEqual(one);
          // Two all-reduces of (r + i) mod 5: every rank holds n x the serial sum.
          const want = Array.from({ length: 50 }, (_, i) => n * Array.from({ length: n }, (_, r) => (r + i) % 5).reduce((x, y) => x + y, 0));
          for (const d of one.data) expect(d).toEqual(want);
        }
      }
    });
  }
});
