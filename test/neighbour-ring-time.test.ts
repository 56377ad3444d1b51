import { describe, expect, it } from 'vitest';
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { replaySchedule, timeSchedule } from '../src/sim/collective-time.ts';
import { timeNeighbourRing } from '../src/sim/neighbour-ring-time.ts';
import { buildTopology } from '../topologies/index.ts';
import { mulberry32 } from './helpers/prng.ts';

/**
 * The dispatch in front of the replay (src/sim/neighbour-ring-time.ts): on topologies where a
 * ring's transfers never contend, timeSchedule's finish times, makespan and (max-min) round ends
 * equal the message replay's and the flow simulation's bit for bit; elsewhere it replays.
 */
describe('ring schedules without contention: dispatched = replayed', () => {
  const spec = { bandwidth: 10e9, latency: 3e-6 };
  const topologies = (n: number) => ({
    ring: buildTopology('ring', n, spec),
    switch: buildTopology('switch', n, spec),
    // One slow NIC and one slow ring link: still no contention.
    'switch, slow NIC': buildTopology('switch', n, spec, { nodes: { '1': { bandwidth: 1e8, latency: 4e-5 } } }),
    'ring, slow node': buildTopology('ring', n, spec, { nodes: { '0': { bandwidth: 3e8 } } }),
  });
  for (let n = 2; n <= 17; n++) {
    it(`n=${n}: fifo and max-min, equal and staggered entries, 8 B to 100 MB`, () => {
      const rand = mulberry32(n);
      for (const [name, topo] of Object.entries(topologies(n))) {
        for (const M of [8, 4 * 1001, 100e6]) {
          for (const cut of ['exact', 'floor'] as const) {
            const s = allReduceSchedule('ring', n, M / 4, {}, cut === 'exact' ? exactCut : undefined);
            for (const entry of [0, Array.from({ length: n }, () => (rand() < 0.5 ? 0 : rand() * 1e-3))]) {
              for (const sharing of ['fifo', 'max-min'] as const) {
                const where = `${name} M=${M} ${cut} ${typeof entry === 'number' ? 'equal' : 'staggered'} ${sharing}`;
                const fast = timeNeighbourRing(topo, s, (r) => (typeof entry === 'number' ? entry : entry[r]!), sharing, 4);
                expect(fast, where).not.toBeNull();
                const slow = replaySchedule(topo, s, entry, sharing);
                expect([...fast!.finish], where).toEqual([...slow.finish]);
                expect(fast!.makespan, where).toBe(slow.makespan);
                expect(fast!.transfers, where).toBe(slow.transfers);
                if (sharing === 'max-min') for (let r = 0; r < n; r++) expect(fast!.roundEnds!(r), where).toEqual(slow.roundEnds!(r));
              }
            }
          }
        }
      }
    });
  }

  it('equal entries on a uniform switch: the ring closed form 2(n-1)(a + 8M/(nB))', () => {
    for (const n of [2, 5, 16, 100]) {
      const M = 100e6;
      const t = timeSchedule(buildTopology('switch', n, spec), allReduceSchedule('ring', n, M / 4, {}, exactCut), 0, 'max-min');
      // A node-to-node latency a (the switch splits it over uplink and downlink).
      const closed = 2 * (n - 1) * (spec.latency + (8 * M) / (n * spec.bandwidth));
      expect(Math.abs(t.makespan - closed) / closed).toBeLessThan(1e-12);
    }
  });

  it('replays what can contend or is not a neighbour ring: a star, a traced link, halving-doubling', () => {
    const n = 6;
    const ring = allReduceSchedule('ring', n, 1000, {}, exactCut);
    const star = buildTopology('star', n, spec);
    expect(timeNeighbourRing(star, ring, () => 0, 'max-min', 4)).toBeNull();
    const traced = buildTopology('ring', n, spec, { traces: [{ node: 2, trace: { times: [0, 1e-3], bandwidth: [1e9, 1e8], latency: [null, null] }, path: [] }] });
    expect(traced.links.some((l) => l.trace)).toBe(true);
    expect(timeNeighbourRing(traced, ring, () => 0, 'fifo', 4)).toBeNull();
    expect(timeNeighbourRing(buildTopology('switch', n, spec), allReduceSchedule('halving-doubling', n, 1000, {}, exactCut), () => 0, 'fifo', 4)).toBeNull();
  });
});
