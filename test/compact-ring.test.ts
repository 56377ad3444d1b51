import { describe, expect, it } from 'vitest';
import { configureCollectives, drainPhases } from '../comm/collectives/configured.ts';
import { planOf, runSchedule, runScheduleAsUnit } from '../comm/collectives/run-schedule.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { allReduceSchedule, exactCut, floorCut, type Schedule } from '../comm/collectives/schedules/index.ts';
import { ringRounds } from '../comm/collectives/schedules/ring.ts';
import { builtLazyRounds } from '../comm/collectives/schedules/schedule.ts';
import { replaySchedule, timeSchedule } from '../src/sim/collective-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { timeNeighbourRing } from '../src/sim/neighbour-ring-time.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { mulberry32 } from './helpers/prng.ts';

/**
 * allReduceSchedule('ring') carries its compact form (n, length, cut) and builds its transfers
 * only when read; the neighbour-ring timer and the per-rank plans work from the compact form.
 * Everything must be what the materialised schedule (ringRounds' transfer objects) gives: the
 * transfers themselves, each rank's plan, and the finish times, makespan and round ends of both
 * sharings, bit for bit, including vectors shorter than the ring (empty chunks).
 */
const materialised = (n: number, length: number, cut: typeof floorCut): Schedule => ({ algorithm: 'ring', n, length, rounds: ringRounds(n, 0, length, cut) });

const CUTS = { floor: floorCut, exact: exactCut };

describe('compact ring schedules = materialised ones', () => {
  const spec = { bandwidth: 10e9, latency: 3e-6 };
  for (let n = 2; n <= 17; n++) {
    const lengths = [...new Set([1, n - 1, n, 2 * n + 3, 1001, 25e6])];
    it(`n=${n}: transfers, rank plans, and fifo / max-min timings for lengths ${lengths.join(', ')}`, () => {
      const rand = mulberry32(1000 + n);
      const topologies = {
        switch: buildTopology('switch', n, spec),
        'switch, slow NIC': buildTopology('switch', n, spec, { nodes: { [String(n - 1)]: { bandwidth: 2e8, latency: 7e-5 } } }),
        'ring, slow node': buildTopology('ring', n, spec, { nodes: { '0': { bandwidth: 3e8 } } }),
      };
      for (const length of lengths) {
        for (const [cutName, cut] of Object.entries(CUTS)) {
          const where = `length=${length} ${cutName}`;
          const compact = allReduceSchedule('ring', n, length, {}, cut);
          const full = materialised(n, length, cut);
          expect(compact.compact, where).toEqual({ kind: 'ring', n, length, cut });
          // Timed first, so any reading of the compact schedule's rounds would happen before they are compared.
          const entries = Array.from({ length: n }, () => (rand() < 0.5 ? 0 : rand() * 1e-3));
          for (const [name, topo] of Object.entries(topologies)) {
            for (const entry of [0, entries]) {
              const entryOf = (r: number) => (typeof entry === 'number' ? entry : entry[r]!);
              for (const sharing of ['fifo', 'max-min'] as const) {
                const at = `${name} ${where} ${typeof entry === 'number' ? 'equal' : 'staggered'} ${sharing}`;
                const fast = timeNeighbourRing(topo, compact, entryOf, sharing, 4);
                const read = timeNeighbourRing(topo, full, entryOf, sharing, 4);
                expect(fast, at).not.toBeNull();
                expect(read, at).not.toBeNull();
                expect([...fast!.finish], at).toEqual([...read!.finish]);
                expect(fast!.makespan, at).toBe(read!.makespan);
                expect(fast!.transfers, at).toBe(read!.transfers);
                // The ground truth for the shortest vectors: the message replay and the flow simulation.
                if (length <= n) {
                  const slow = replaySchedule(topo, full, entry, sharing);
                  expect([...fast!.finish], at).toEqual([...slow.finish]);
                  if (sharing === 'max-min') for (let r = 0; r < n; r++) expect(fast!.roundEnds!(r), at).toEqual(slow.roundEnds!(r));
                }
                if (sharing === 'max-min') for (let r = 0; r < n; r++) expect(fast!.roundEnds!(r), at).toEqual(read!.roundEnds!(r));
              }
            }
          }
          for (let r = 0; r < n; r++) expect(planOf(compact, r), `${where} rank ${r}`).toEqual(planOf(full, r));
          // The point of the compact form: timing it and planning every rank built no round.
          expect(builtLazyRounds(compact), where).toBe(0);
          expect(compact.rounds.length, where).toBe(full.rounds.length);
          compact.rounds.forEach((round, k) => {
            expect(round.phase, `${where} round ${k}`).toBe(full.rounds[k]!.phase);
            expect(round.transfers, `${where} round ${k}`).toEqual(full.rounds[k]!.transfers);
          });
          // A JSON copy (a log line, structuredClone's cousin) shows the transfers, not the lazy state.
          expect(JSON.parse(JSON.stringify(compact.rounds)), where).toEqual(JSON.parse(JSON.stringify(full.rounds)));
        }
      }
    });
  }

  it('a single rank has no rounds, and nothing to time', () => {
    const s = allReduceSchedule('ring', 1, 100);
    expect(s.rounds).toEqual([]);
    expect(timeNeighbourRing(buildTopology('switch', 1, spec), s, () => 0, 'fifo', 4)).toBeNull();
  });

  it('real bytes, message-timed and unit-timed: the same sums, clocks, bytes and phases as the materialised schedule', async () => {
    const run = async (topo: Topology, schedule: Schedule, unit: boolean) => {
      const n = schedule.n;
      const router = new InprocRouter();
      const eps = Array.from({ length: n }, (_, r) => {
        const ep = new Endpoint(r, n, router, new NetworkModel(topo));
        router.attach(ep);
        configureCollectives(ep, { collective: 'ring', shape: {} });
        ep.now = (r % 3) * 2e-5;
        return ep;
      });
      const data = eps.map((_, r) => Float32Array.from({ length: schedule.length }, (_, i) => ((r * 5 + i * 3) % 7) - 3));
      await Promise.all(eps.map((ep, r) => (unit ? runScheduleAsUnit(ep, data[r]!, schedule, 1, (e) => timeSchedule(topo, schedule, e, 'max-min')) : runSchedule(ep, data[r]!, schedule, 1))));
      return { data: data.map((d) => [...d]), now: eps.map((ep) => ep.now), sent: eps.map((ep) => ep.stats.bytesSent), phases: eps.map((ep) => drainPhases(ep)) };
    };
    for (const n of [2, 3, 5, 8]) {
      const topo = buildTopology('switch', n, spec, { nodes: { '1': { bandwidth: 1e9 } } });
      for (const length of [1, n + 3, 64]) {
        for (const unit of [false, true]) {
          const where = `n=${n} length=${length} ${unit ? 'unit-timed' : 'message-timed'}`;
          const got = await run(topo, allReduceSchedule('ring', n, length), unit);
          expect(got, where).toEqual(await run(topo, materialised(n, length, floorCut), unit));
          const sum = Array.from({ length }, (_, i) => Array.from({ length: n }, (_, r) => ((r * 5 + i * 3) % 7) - 3).reduce((x, y) => x + y, 0));
          for (const d of got.data) expect(d, where).toEqual(sum);
          expect(got.phases[0]!.map((p) => p[0]), where).toEqual(['reduce-scatter', 'all-gather']);
        }
      }
    }
  });
});
