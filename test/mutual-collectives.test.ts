import { describe, expect, it } from 'vitest';
import { allReduce, type CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { allReduceSchedule, exactCut } from '../comm/collectives/schedules/index.ts';
import { awaitBackground, sendInBackground } from '../comm/background.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { unitTimer, unitTiming } from '../src/runtime/collective-setup.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { UnitScheduler } from '../src/sim/unit-scheduler.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';

/**
 * Overlapping unit-timed collectives share links max-min with each other when the later one is
 * entered before the earlier one's result is needed (src/sim/unit-scheduler.ts): the earlier
 * one's finish times are decided then, together with everything entered by that point.
 */
const B = 1e9;
const M = 1e6; // bytes per all-reduce
const T = (8 * M) / B; // one ring all-reduce of M bytes between 2 ranks: two rounds of M/2 bytes

describe('unit scheduler: mutual max-min between collectives', () => {
  const sw = buildTopology('switch', 2, { bandwidth: B, latency: 0 });
  const ring = allReduceSchedule('ring', 2, M / 4, {}, exactCut);
  const at = (t: number) => [t, t];

  it('two all-reduces entered together, the first needed after the second was entered: both take one all-reduce of 2M (each gets half)', () => {
    const s = new UnitScheduler(sw, null);
    s.enter(ring, at(0), 1);
    s.enter(ring, at(0), 2);
    expect(s.pendingCount).toBe(2);
    // Each round's M/2 bytes cross each NIC at B/2 (the other collective has the other half): T per round.
    const x = s.decide(1);
    expect(x.makespan).toBeCloseTo(2 * T, 15);
    expect([...x.finish]).toEqual([x.makespan, x.makespan]);
    const y = s.decide(2);
    expect(y.makespan).toBeCloseTo(2 * T, 15);
    expect(s.pendingCount).toBe(0);
    // One all-reduce of twice the bytes, alone: the same time.
    expect(timeSchedule(sw, allReduceSchedule('ring', 2, M / 2, {}, exactCut), 0).makespan).toBeCloseTo(2 * T, 15);
    // First come first served (decided when entered, as before): T and 2T.
    const fcfs = unitTimer(sw, null);
    expect(fcfs(ring, at(0), 1).makespan).toBe(T);
    expect(fcfs(ring, at(0), 2).makespan).toBeCloseTo(2 * T, 15);
  });

  it('any n: two equal ring all-reduces on a switch each finish at the closed form of one of twice the bytes', () => {
    for (let n = 2; n <= 7; n++) {
      const topo = buildTopology('switch', n, { bandwidth: B, latency: 0 });
      const len = 1000 * n; // elements, divisible by n: equal chunks
      const s = new UnitScheduler(topo, null);
      const sched = allReduceSchedule('ring', n, len, {}, exactCut);
      const zero = new Array<number>(n).fill(0);
      s.enter(sched, zero, 1);
      s.enter(sched, zero, 2);
      // 2(n-1) rounds of 4 len / n bytes per rank, each at B/2: 2(n-1) * 8 (2 * 4 len / n) / B.
      const want = (2 * (n - 1) * 8 * ((2 * 4 * len) / n)) / B;
      expect(s.decide(1).makespan / want - 1).toBeCloseTo(0, 12);
      expect(s.decide(2).makespan / want - 1).toBeCloseTo(0, 12);
    }
  });

  it('staggered: the second enters when the first is half done (T/2) or a quarter in (T/4); max-min by hand', () => {
    for (const [enter, wantX] of [
      // X's round 1 and Y's round 0 share [T/2, 1.5T]; Y's round 1 alone [1.5T, 2T].
      [T / 2, 1.5 * T],
      // X alone [0, T/4], then halves: X round 0 ends 3T/4, Y round 0 at 5T/4, X round 1 at 7T/4, Y alone to 2T.
      [T / 4, 1.75 * T],
    ] as const) {
      const s = new UnitScheduler(sw, null);
      s.enter(ring, at(0), 1);
      s.enter(ring, at(enter), 2);
      expect(s.decide(1).makespan).toBeCloseTo(wantX, 15);
      // Y, simulated again with X's rates reserved: the capacity X leaves is what it had in the joint run.
      expect(s.decide(2).makespan).toBeCloseTo(2 * T, 15);
      // First come first served: X keeps the links to T, Y gets them after.
      const fcfs = unitTimer(sw, null);
      expect(fcfs(ring, at(0), 1).makespan).toBe(T);
      expect(fcfs(ring, at(enter), 2).makespan).toBeCloseTo(2 * T, 15);
    }
  });

  it('a collective entered after the first was decided gets the capacity it leaves (exactness boundary)', () => {
    const s = new UnitScheduler(sw, null);
    s.enter(ring, at(0), 1);
    expect(s.decide(1).makespan).toBe(T); // needed before the second entered: alone
    s.enter(ring, at(T / 2), 2);
    expect(s.decide(2).makespan).toBeCloseTo(2 * T, 15); // waits for the links until T, then T
  });

  it('nothing pending: each decision is timeSchedule alone (bit for bit), and decisions are shared by the local ranks then forgotten', () => {
    const topo = buildTopology('tree', 6, { bandwidth: B, latency: 1e-4 }, { arity: 2, oversubscription: 2 });
    const s = new UnitScheduler(topo, null, 2);
    const sched = allReduceSchedule('halving-doubling', 6, 30000, {}, exactCut);
    const entries = [0, 1e-5, 2e-5, 0, 0, 3e-5];
    const a = s.time(sched, entries, 7);
    expect(s.time(sched, entries, 7)).toBe(a); // the second local rank: the same object
    expect(a.finish).toEqual(timeSchedule(topo, sched, entries, 'max-min').finish);
    // Both local ranks fetched op 7: forgotten; asking again is a program error, not a new timing.
    expect(() => s.decide(7)).toThrow(/decided before it was entered/);
  });
});

/** n endpoints on `topo`, packed into `blocks` simulated processes (each its own scheduler and model). */
function cluster(topo: Topology, n: number, blocks: number, deferred: boolean) {
  const router = new InprocRouter();
  const block = (r: number) => Math.floor((r * blocks) / n);
  const local = (b: number) => Array.from({ length: n }, (_, r) => r).filter((r) => block(r) === b).length;
  const opts = Array.from({ length: blocks }, (_, b): CollectiveOptions => {
    const timing = unitTiming(topo, null, local(b));
    return { collective: 'ring', shape: {}, timeAsUnit: timing.timeAsUnit, ...(deferred ? { deferAsUnit: timing.deferAsUnit } : {}) };
  });
  const models = Array.from({ length: blocks }, () => new NetworkModel(topo));
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, models[block(r)]!);
    router.attach(ep);
    return ep;
  });
  return { eps, opt: (r: number) => opts[block(r)]! };
}

describe('background collectives through comm/background.ts', () => {
  it('two fragments in flight: deferred arrivals are max-min with each other, identical in every packing', async () => {
    const n = 4;
    const topo = buildTopology('switch', n, { bandwidth: B, latency: 0 });
    const len = 250000; // 1 MB
    const alone = timeSchedule(topo, allReduceSchedule('ring', n, len, {}, exactCut), 0).makespan;
    const run = async (blocks: number, deferred: boolean) => {
      const { eps, opt } = cluster(topo, n, blocks, deferred);
      return Promise.all(
        eps.map(async (ep, r) => {
          // Fragment X at 0, fragment Y at alone / 2 (X half done), then X is merged, then Y.
          const x = new Float32Array(len).fill(r);
          const tx = await sendInBackground(ep, () => allReduce(ep, x, opt(r)));
          expect(ep.now).toBe(0);
          ep.now = alone / 2;
          const y = new Float32Array(len).fill(2 * r);
          const ty = await sendInBackground(ep, () => allReduce(ep, y, opt(r)));
          expect(ty.deferred).toBe(deferred);
          const bg: [number, number][] = [];
          awaitBackground(ep, tx, bg);
          const afterX = ep.now;
          awaitBackground(ep, ty, bg);
          expect(x[0]).toBe(6);
          expect(y[len - 1]).toBe(12);
          expect(bg).toHaveLength(deferred ? 2 : 0);
          return [tx.arrives, ty.arrives, afterX, ep.now];
        }),
      );
    };
    const one = await run(1, true);
    expect(await run(2, true)).toEqual(one);
    expect(await run(n, true)).toEqual(one);
    // Max-min between the two: X's second half shares every NIC with Y's first half (1.5 alone);
    // Y ends when 2 all-reduces' bytes have crossed (2 alone). First come first served: alone, 2 alone.
    for (const [ax, ay, afterX, end] of one) {
      expect(ax! / alone).toBeCloseTo(1.5, 12);
      expect(ay! / alone).toBeCloseTo(2, 12);
      expect(afterX).toBe(ax);
      expect(end).toBe(ay);
    }
    for (const [ax, ay] of await run(2, false)) {
      expect(ax).toBe(alone);
      expect(ay! / alone).toBeCloseTo(2, 12);
    }
  });

  it('refuses a background arrival read at different program points on different ranks (it would make the finish depend on the packing)', async () => {
    const n = 4;
    const topo = buildTopology('switch', n, { bandwidth: B, latency: 0 });
    const len = 250000;
    const alone = timeSchedule(topo, allReduceSchedule('ring', n, len, {}, exactCut), 0).makespan;
    const { eps, opt } = cluster(topo, n, 1, true);
    const outcomes = await Promise.allSettled(
      eps.map(async (ep, r) => {
        const tx = await sendInBackground(ep, () => allReduce(ep, new Float32Array(len).fill(1), opt(r)));
        // Rank 0 alone reads X's arrival before Y is entered (say, to log it): decided against X alone.
        const early = r === 0 ? tx.arrives : null;
        ep.now = alone / 2;
        const ty = await sendInBackground(ep, () => allReduce(ep, new Float32Array(len).fill(1), opt(r)));
        awaitBackground(ep, tx);
        awaitBackground(ep, ty);
        return early;
      }),
    );
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: alone });
    for (const o of outcomes.slice(1)) {
      expect(o.status).toBe('rejected');
      expect(String((o as PromiseRejectedResult).reason)).toMatch(/first needed at different points of the program on different ranks \(after collective 1 on one, 2 on another\)/);
    }
  });

  it('the decisions follow program order whichever rank gets there first (wall-clock jitter, any packing): the pure scheduler replayed in program order', async () => {
    const n = 4;
    const topo = buildTopology('switch', n, { bandwidth: B, latency: 1e-4 }, { nodes: { 2: { bandwidth: B / 4 } } });
    const len = 50000;
    const sched = allReduceSchedule('ring', n, len, {}, exactCut);
    const alone = timeSchedule(topo, sched, 0).makespan;
    // X at 0; Y at alone / 3; X needed; Z at X's arrival + alone / 5; Y needed; Z needed.
    const run = async (blocks: number, seed: number) => {
      const { eps, opt } = cluster(topo, n, blocks, true);
      const jitter = (r: number, k: number) => new Promise((res) => setTimeout(res, ((seed * 7 + r * 3 + k * 5) % 4) * 2));
      return Promise.all(
        eps.map(async (ep, r) => {
          const v = () => new Float32Array(len).fill(1);
          const tx = await sendInBackground(ep, () => allReduce(ep, v(), opt(r)));
          ep.now = alone / 3;
          const ty = await sendInBackground(ep, () => allReduce(ep, v(), opt(r)));
          await jitter(r, 0);
          awaitBackground(ep, tx);
          ep.now += alone / 5;
          await jitter(r, 1);
          const tz = await sendInBackground(ep, () => allReduce(ep, v(), opt(r)));
          await jitter(r, 2);
          awaitBackground(ep, ty);
          awaitBackground(ep, tz);
          return [tx.arrives, ty.arrives, tz.arrives];
        }),
      );
    };
    const one = await run(1, 0);
    for (const [blocks, seed] of [[1, 1], [2, 2], [2, 3], [4, 1]] as const) expect(await run(blocks, seed)).toEqual(one);
    // The same decisions from the pure scheduler, in program order.
    const s = new UnitScheduler(topo, null);
    const same = (t: number) => new Array<number>(n).fill(t);
    s.enter(sched, same(0), 1);
    s.enter(sched, same(alone / 3), 2);
    const x = s.decide(1);
    s.enter(sched, [...x.finish].map((f) => f + alone / 5), 3);
    const y = s.decide(2);
    const z = s.decide(3);
    expect(one.map((a) => a[0])).toEqual([...x.finish]);
    expect(one.map((a) => a[1])).toEqual([...y.finish]);
    expect(one.map((a) => a[2])).toEqual([...z.finish]);
    // X shared with Y (entered before X was needed): later than alone; Z was entered after.
    expect(x.makespan).toBeGreaterThan(alone);
  });

  it('reading the clock inside the exchange decides the collective there (a second collective enters after it)', async () => {
    const n = 2;
    const topo = buildTopology('switch', n, { bandwidth: B, latency: 0 });
    const { eps, opt } = cluster(topo, n, 1, true);
    const got = await Promise.all(
      eps.map(async (ep, r) => {
        const a = new Float32Array(M / 4).fill(r);
        const b = new Float32Array(M / 4).fill(r);
        // Two all-reduces in one exchange: the second's entry is the first's finish.
        const t = await sendInBackground(ep, async () => {
          await allReduce(ep, a, opt(r));
          await allReduce(ep, b, opt(r));
        });
        return t.arrives;
      }),
    );
    expect(got[0]).toBeCloseTo(2 * T, 15);
    expect(got[1]).toBe(got[0]);
  });
});
