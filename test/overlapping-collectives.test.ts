import { describe, expect, it } from 'vitest';
import { allReduce, type CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { sendInBackground } from '../comm/background.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { unitTimer } from '../src/runtime/collective-setup.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { UnitLedger } from '../src/sim/unit-ledger.ts';
import { buildTopology } from '../topologies/index.ts';

/**
 * Unit-timed collectives decided as they are entered (`unitTimer`: no deferral; or a background
 * transfer's arrival read at its send) share the links first come first served: the one decided
 * first keeps its times (its ranks have seen them), a later one gets the capacity it leaves,
 * max-min among its own flows. Deferred decisions (max-min between collectives) are tested in
 * test/mutual-collectives.test.ts.
 */
const B = 1e9;
const M = 1e6; // bytes per all-reduce
const T = (8 * M) / B;

describe('overlapping unit-timed collectives', () => {
  // Two ranks on a switch, no latency: a ring all-reduce is two rounds of M/2 each way, T/2 each.
  const sw = buildTopology('switch', 2, { bandwidth: B, latency: 0 });
  const ring = allReduceSchedule('ring', 2, M / 4, {}, exactCut);

  it('alone: T; a second one entering while the first is in flight waits for the capacity it leaves', () => {
    expect(timeSchedule(sw, ring, 0, 'max-min').makespan).toBe(T);
    for (const [enter, want] of [[T / 4, 2 * T], [T / 2, 2 * T], [0, 2 * T]] as const) {
      const ledger = new UnitLedger();
      expect(timeSchedule(sw, ring, 0, 'max-min', 4, null, ledger).makespan).toBe(T);
      // The first holds every link at full rate until T: the second's rounds run [T, 2T].
      expect(timeSchedule(sw, ring, enter, 'max-min', 4, null, ledger).makespan).toBeCloseTo(want, 15);
    }
  });

  it('a link the first one only half uses: the second gets the other half of another, by hand', () => {
    // up-0 at B/2. First alone: round 0 has 0->1 at B/2 (T) and 1->0 at B (T/2); round 1 the
    // same from T: makespan 2T; it takes all of up-0 over [0, 2T] and up-1 over [0, T/2] and [T, 1.5T].
    const slow = buildTopology('switch', 2, { bandwidth: B, latency: 0 }, { links: { 'up-0': { bandwidth: B / 2 } } });
    const ledger = new UnitLedger();
    expect(timeSchedule(slow, ring, 0, 'max-min', 4, null, ledger).makespan).toBeCloseTo(2 * T, 15);
    // Second, entering at 0: 1->0 runs in the gap [T/2, T]; 0->1 finds up-0 free at 2T and takes
    // T at B/2 (3T); its round 1 runs from 3T: 0->1 again T at B/2: 4T.
    const second = timeSchedule(slow, ring, 0, 'max-min', 4, null, ledger);
    expect(second.makespan).toBeCloseTo(4 * T, 15);
    // The same sequence gives the same times.
    const again = new UnitLedger();
    timeSchedule(slow, ring, 0, 'max-min', 4, null, again);
    expect(timeSchedule(slow, ring, 0, 'max-min', 4, null, again).finish).toEqual(second.finish);
  });

  it('collectives that do not overlap are timed exactly as alone (bit for bit)', () => {
    const topo = buildTopology('tree', 6, { bandwidth: B, latency: 1e-4 }, { arity: 2, oversubscription: 2 });
    for (const kind of ['ring', 'tree', 'halving-doubling'] as const) {
      const s = allReduceSchedule(kind, 6, 30000, {}, exactCut);
      const ledger = new UnitLedger();
      const a = timeSchedule(topo, s, 0, 'max-min', 4, null, ledger);
      const entries = Array.from({ length: 6 }, (_, r) => a.makespan + r * 1e-5);
      expect(timeSchedule(topo, s, entries, 'max-min', 4, null, ledger).finish).toEqual(timeSchedule(topo, s, entries, 'max-min').finish);
    }
  });

  it('background all-reduces in flight together: the same arrivals in every process packing', async () => {
    const n = 6;
    const topo = buildTopology('hierarchical', n, { bandwidth: B, latency: 1e-4 }, { groups: [2, 4], inter: { bandwidth: 1e8, latency: 1e-2 } });
    const run = async (blocks: number) => {
      const router = new InprocRouter();
      // One timer (ledger) and one network model per simulated process.
      const timers = Array.from({ length: blocks }, () => unitTimer(topo, null));
      const opts = timers.map((t): CollectiveOptions => ({ collective: 'hierarchical', shape: { groups: topo.groups! }, timeAsUnit: t }));
      const models = Array.from({ length: blocks }, () => new NetworkModel(topo));
      const block = (r: number) => Math.floor((r * blocks) / n);
      const eps = Array.from({ length: n }, (_, r) => {
        const ep = new Endpoint(r, n, router, models[block(r)]!);
        router.attach(ep);
        ep.now = r * 1e-3;
        return ep;
      });
      const arrivals = await Promise.all(
        eps.map(async (ep, r) => {
          const out: number[] = [];
          // Fragment k is sent 5 ms after fragment k-1, while its 0.8 MB still cross the WAN (64 ms each way).
          for (let k = 0; k < 3; k++) {
            const data = new Float32Array(200000).fill(r + k);
            out.push((await sendInBackground(ep, () => allReduce(ep, data, opts[block(r)]!))).arrives);
            expect(data[0]).toBe(15 + 6 * k);
            ep.now += 5e-3;
          }
          return out;
        }),
      );
      return arrivals;
    };
    const one = await run(1);
    expect(await run(2)).toEqual(one);
    expect(await run(n)).toEqual(one);
    // Each fragment waits for the WAN capacity the earlier ones leave: later and later arrivals,
    // spaced by more than the 5 ms between their sends.
    for (const a of one) for (let k = 1; k < 3; k++) expect(a[k]! - a[k - 1]!).toBeGreaterThan(5e-3);
  });
});
