import { describe, expect, it } from 'vitest';
import type { CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { ringAllGather } from '../comm/collectives/allgather.ts';
import { recursiveDoublingAllGather } from '../comm/collectives/allgather-recursive-doubling.ts';
import { allGather, configureCollectives } from '../comm/collectives/configured.ts';
import { builtLazyRounds } from '../comm/collectives/schedules/schedule.ts';
import { declaredRoundSized, recursiveDoublingAllGatherSized, ringAllGatherSized } from '../comm/collectives/schedules/sized.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { oneBitChunk, oneBitChunkedAllReduce } from '../comm/onebit-adam/compressed-allreduce.ts';
import { OneBitAdamServer } from '../comm/onebit-adam/onebit-adam.ts';
import { NeighbourExchange } from '../optimizers/common/gossip-exchange.ts';
import { unitTimer, unitTiming } from '../src/runtime/collective-setup.ts';
import { awaitBackground, sendInBackground } from '../comm/background.ts';
import { replaySchedule, timeSchedule } from '../src/sim/collective-time.ts';
import { timeEagerAlone } from '../src/sim/eager-alone-time.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';

/**
 * Collectives that send message by message (variable-size all-gathers, gossip rounds) timed as
 * a unit under max-min on cut-through topologies: where no two senders share a link they give
 * the per-message path's numbers bit for bit; where they do, the max-min time by hand.
 */
const B = 1e9;

/**
 * Endpoints of n ranks, packed `blocks` to a "process" (a network model, a unit timer and one
 * collective options object, as a worker host has: its ranks share entry stamps on a board),
 * optionally timing message collectives as units.
 */
function endpoints(topo: Topology, unit: boolean, blocks = 1, collective: 'ring' | 'auto' | 'recursive-doubling' = 'ring'): Endpoint[] {
  const n = topo.workers;
  const router = new InprocRouter();
  const models = Array.from({ length: blocks }, () => new NetworkModel(topo, null, 'max-min'));
  // One timer per "process" (block), as the worker hosts have.
  const timers = Array.from({ length: blocks }, () => unitTimer(topo, null));
  const options = timers.map((t): CollectiveOptions => ({ collective, shape: {}, estimate: (s) => timeSchedule(topo, s, 0, 'max-min').makespan, ...(unit ? { timeAsUnit: t, messagesAsUnit: true } : {}) }));
  return Array.from({ length: n }, (_, r) => {
    const p = Math.floor((r * blocks) / n);
    const ep = new Endpoint(r, n, router, models[p]!);
    router.attach(ep);
    configureCollectives(ep, options[p]!);
    return ep;
  });
}

function payloads(n: number, size: (r: number) => number): Uint8Array[] {
  return Array.from({ length: n }, (_, r) => Uint8Array.from({ length: size(r) }, (_, i) => (r * 31 + i) & 255));
}

/** Every rank got exactly these payloads (byte comparison: deep equality of large arrays is slow). */
function expectGathered(got: readonly (readonly Uint8Array[])[], want: readonly Uint8Array[]): void {
  for (const g of got) expect(g.map((x, r) => Buffer.from(x).equals(Buffer.from(want[r]!)))).toEqual(want.map(() => true));
}

describe('message collectives timed as a unit', () => {
  it('uncontended: a ring all-gather of unequal payloads on a switch equals the per-message timing bit for bit (n = 2..9, staggered entries, twice in a row)', async () => {
    for (let n = 2; n <= 9; n++) {
      const topo = buildTopology('switch', n, { bandwidth: B, latency: 3e-5 }, { nodes: { '1': { bandwidth: B / 3 } } });
      // Unequal sizes: a sender's next message often leaves while its previous one is still on its NIC.
      const ps = payloads(n, (r) => 200 + ((r * 7919) % 13) * 400);
      const clocks: number[][] = [];
      const records: unknown[] = [];
      for (const unit of [false, true]) {
        const eps = endpoints(topo, unit);
        eps.forEach((ep, r) => (ep.now = ((r * 5) % 3) * 1e-5));
        // Record the messages (timeline.jsonl's transfers): the unit gives them the same times.
        for (const ep of eps) ep.transfers = [];
        for (let k = 0; k < 2; k++) {
          expectGathered(await Promise.all(eps.map((ep, r) => allGather(ep, ps[r]!))), ps);
          eps.forEach((ep, r) => (ep.now += r * 2e-6));
        }
        clocks.push(eps.map((ep) => ep.now));
        records.push(eps.map((ep) => ep.drainTransfers()));
        // Bits: the payloads only (n - 1 messages per rank), stamps are metadata.
        expect(eps.reduce((x, ep) => x + ep.stats.bytesSent, 0)).toBe(2 * (n - 1) * ps.reduce((x, p) => x + p.byteLength, 0));
      }
      expect(clocks[1], `n=${n}`).toEqual(clocks[0]);
      expect(records[1], `n=${n}`).toEqual(records[0]);
    }
  });

  it('uncontended: recursive doubling with equal payloads and a gossip round on a torus equal the per-message timing bit for bit', async () => {
    // Powers of two: with a fold (n = 5) a folded rank's late bundle meets another sender's on a NIC.
    for (const n of [2, 4, 8]) {
      const topo = buildTopology('switch', n, { bandwidth: B, latency: 1e-5 });
      const ps = payloads(n, () => 5000);
      const clocks: number[][] = [];
      for (const unit of [false, true]) {
        const eps = endpoints(topo, unit);
        const t = eps.map((ep) => recursiveDoublingAllGather(ep, ps[ep.rank]!, unit ? unitTimer(topo, null) : undefined));
        expectGathered(await Promise.all(t), ps);
        clocks.push(eps.map((ep) => ep.now));
      }
      expect(clocks[1], `n=${n}`).toEqual(clocks[0]);
    }
    const torus = buildTopology('torus', 9, { bandwidth: B, latency: 2e-5 }, { dims: [3, 3] });
    const adj = gossipNeighbours(torus)!;
    const ps = payloads(9, (r) => 800 * (r + 1));
    const clocks: number[][] = [];
    const records: unknown[] = [];
    for (const unit of [false, true]) {
      const eps = endpoints(torus, unit);
      eps.forEach((ep, r) => (ep.now = (r % 4) * 1e-5));
      for (const ep of eps) ep.transfers = [];
      const ex = eps.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj));
      const got = await Promise.all(ex.map((x, r) => x.exchange(ps[r]!).then((g) => g.map((p) => [...p]))));
      got.forEach((g, r) => expect(g).toEqual(adj[r]!.map((j) => [...ps[j]!])));
      clocks.push(eps.map((ep) => ep.now));
      records.push(eps.map((ep) => ep.drainTransfers()));
    }
    expect(clocks[1]).toEqual(clocks[0]);
    expect(records[1]).toEqual(records[0]);
  });

  it('contended: a ring all-gather on a graph whose middle link carries three routes each way takes 3 x 8m/B per round (n = 6)', async () => {
    // 0, 2 hang off 4; 1, 3 off 5; 4 - 5 is the middle. Routes 0->1, 2->3, 4->5 cross 4->5 and
    // 1->2, 3->4, 5->0 cross 5->4: every round each direction's three flows get B/3.
    const edges = [[0, 4], [2, 4], [4, 5], [5, 1], [5, 3]].map(([a, b]) => ({ a: a!, b: b! }));
    const topo = buildTopology('graph', 6, { bandwidth: B, latency: 0 }, { edges });
    const m = 12500;
    const T = (8 * m) / B;
    const eps = endpoints(topo, true);
    await Promise.all(eps.map((ep, r) => ringAllGather(ep, payloads(6, () => m)[r]!, unitTimer(topo, null))));
    for (const ep of eps) expect(Math.abs(ep.now - 15 * T) / (15 * T)).toBeLessThan(1e-12);
    // The per-message model lets the three flows through at B each: 5T.
    const fifo = timeSchedule(topo, ringAllGatherSized(new Array(6).fill(m)), 0, 'fifo');
    expect(Math.abs(fifo.makespan - 5 * T) / (5 * T)).toBeLessThan(1e-12);
  });

  it('contended: a gossip round in a group of 3 on an island switch, by hand (incast on a NIC; a sender queues its own messages)', async () => {
    const a = 1e-4;
    const topo = buildTopology('hierarchical', 3, { bandwidth: B, latency: a }, { groups: 1 });
    const adj = gossipNeighbours(topo)!;
    expect(adj).toEqual([[1, 2], [0, 2], [0, 1]]);
    const m = 25000;
    const T = (8 * m) / B;
    // 0->1 alone [0, T]; 1->0 and 2->0 share down-0 at B/2 [0, 2T]; 0->2 after 0->1 [T, 2T];
    // 1->2 and 2->1 after those [2T, 3T]. Per message (no incast): each sender's two messages
    // leave at B one after the other, [0, T] and [T, 2T]; rank 0 gets both of its first.
    const want = [2 * T + a, 3 * T + a, 3 * T + a];
    for (const blocks of [1, 3]) {
      const eps = endpoints(topo, true, blocks);
      const ex = eps.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj));
      await Promise.all(ex.map((x, r) => x.exchange(payloads(3, () => m)[r]!)));
      eps.forEach((ep, r) => expect(Math.abs(ep.now - want[r]!) / want[r]!).toBeLessThan(1e-12));
    }
    const msg = endpoints(topo, false);
    await Promise.all(msg.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj).exchange(payloads(3, () => m)[ep.rank]!)));
    [T + a, 2 * T + a, 2 * T + a].forEach((w, r) => expect(Math.abs(msg[r]!.now - w) / w).toBeLessThan(1e-12));
  });

  it('contended traffic is timed identically whatever the packing: all-gathers on an oversubscribed tree, gossip on islands (1, 2 and n network models and timers)', async () => {
    const tree = buildTopology('tree', 6, { bandwidth: B, latency: 1e-4 }, { arity: 2, oversubscription: 4 });
    const islands = buildTopology('hierarchical', 6, { bandwidth: B, latency: 1e-4 }, { groups: [2, 4], inter: { bandwidth: B / 10, latency: 1e-3 } });
    const adj = gossipNeighbours(islands)!;
    const ps = payloads(6, (r) => 3000 + 1500 * r);
    const clocks = async (blocks: number) => {
      const a = endpoints(tree, true, blocks);
      a.forEach((ep, r) => (ep.now = (r % 3) * 2e-5));
      for (const f of [ringAllGather, recursiveDoublingAllGather]) expectGathered(await Promise.all(a.map((ep, r) => f(ep, ps[r]!, unitTimer(tree, null)))), ps);
      const g = endpoints(islands, true, blocks);
      g.forEach((ep, r) => (ep.now = (r % 2) * 1e-4));
      const ex = g.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj));
      for (let k = 0; k < 2; k++) await Promise.all(ex.map((x, r) => x.exchange(ps[r]!)));
      return [...a, ...g].map((ep) => ep.now);
    };
    const one = await clocks(1);
    expect(await clocks(2)).toEqual(one);
    expect(await clocks(6)).toEqual(one);
    // Contention is real there: in one round from 0 on islands joined as fast as inside them, the
    // 4-island's members each receive three messages at once on their NIC (max-min shares it;
    // message by message each runs at B).
    const fast = buildTopology('hierarchical', 6, { bandwidth: B, latency: 1e-4 }, { groups: [2, 4] });
    const once = async (unit: boolean) => {
      const eps = endpoints(fast, unit);
      await Promise.all(eps.map((ep, r) => new NeighbourExchange(ep, adj[r]!, adj).exchange(ps[r]!)));
      return eps.map((ep) => ep.now);
    };
    const [u, m] = [await once(true), await once(false)];
    for (const r of [3, 4, 5]) expect(u[r]!, `rank ${r}`).toBeGreaterThan(m[r]! * 1.2);
  });

  it("1-bit Adam's all-to-all and all-gather as units: on a switch (each stage a permutation: no incast) the same results and clocks as message by message", async () => {
    // Equal chunks and entries keep the stages in step: each stage's flows are a permutation.
    const n = 5;
    const d = 5 * 64;
    const topo = buildTopology('switch', n, { bandwidth: 1e8, latency: 1e-5 });
    const sent = Array.from({ length: n }, (_, r) => Float32Array.from({ length: d }, (_, i) => ((r + i) % 3) - 1));
    const results: { out: number[][]; now: number[] }[] = [];
    for (const unit of [false, true]) {
      const eps = endpoints(topo, unit);
      const outs = eps.map(() => new Float32Array(d));
      await Promise.all(eps.map((ep, r) => {
        const { start, end } = oneBitChunk(r, d, n);
        return oneBitChunkedAllReduce(ep, sent[r]!, 0.5, new OneBitAdamServer(end - start), outs[r]!);
      }));
      results.push({ out: outs.map((o) => [...o]), now: eps.map((ep) => ep.now) });
    }
    expect(results[1]).toEqual(results[0]);
    for (const o of results[1]!.out) expect(o).toEqual(results[1]!.out[0]);
  });

  it('entry stamps are hostile until parsed: a wrong count, a lie about the size, a bad time', async () => {
    const topo = buildTopology('switch', 2, { bandwidth: B, latency: 1e-5 });
    const stamp = (t: number, values: number[], count = values.length) => {
      const b = new Uint8Array(12 + 8 * values.length);
      const dv = new DataView(b.buffer);
      dv.setFloat64(0, t, true);
      dv.setUint32(8, count, true);
      values.forEach((v, i) => dv.setFloat64(12 + 8 * i, v, true));
      return b;
    };
    const cases: [Uint8Array, Uint8Array, RegExp][] = [
      // More values than the collective allows are refused before anything is allocated for them.
      [stamp(0, [4, 4]), new Uint8Array(4), /ring all-gather: entry stamp from 1 declares 2 values, expected at most 1/],
      [stamp(0, [10]), new Uint8Array(5), /ring all-gather: 5 bytes from 1, its entry stamp declared 10/],
      [stamp(Number.NaN, [5]), new Uint8Array(5), /entry time from 1 is NaN, expected a finite virtual time >= 0/],
      [stamp(0, [5], 2 ** 31), new Uint8Array(5), /entry stamp from 1 declares 2147483648 values, expected at most 1/],
      [stamp(0, [5, 6], 1), new Uint8Array(5), /entry stamp from 1 has 28 bytes for 1 values, expected 20/],
      [stamp(0, [0.5]), new Uint8Array(5), /entry stamp from 1 declares 0.5, expected whole numbers/],
    ];
    for (const [bad, payload, message] of cases) {
      // Two "processes": stamps travel as messages.
      const [ep0, ep1] = endpoints(topo, true, 2);
      const op = ep1!.nextOp();
      // Rank 1 misbehaves: its own stamp, then the payload of the ring's only round.
      ep1!.sendMeta(0, op, 0x7ffffff1, bad);
      ep1!.sendUntimed(0, op, 0, payload);
      await expect(ringAllGather(ep0!, new Uint8Array(5), unitTimer(topo, null))).rejects.toThrow(message);
    }
  });

  it('property: where no two senders share a link, the clock arithmetic, the eager flows and the message replay agree bit for bit (ring all-gathers n = 2..17 on switches and trees, gossip on a torus and a graph; random sizes, entries, NIC speeds)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let n = 2; n <= 17; n++) {
      const nodes = Object.fromEntries(Array.from({ length: n }, (_, r) => [String(r), { bandwidth: B * (0.25 + rand()) }]));
      const topo = buildTopology('switch', n, { bandwidth: B, latency: rand() * 1e-4 }, { nodes });
      const sizes = Array.from({ length: n }, () => Math.floor(rand() * 1e6));
      const entries = Array.from({ length: n }, () => rand() * 1e-3);
      const s = ringAllGatherSized(sizes);
      const fast = timeEagerAlone(topo, s, (r) => entries[r]!, 4)!;
      // The ring is timed from its compact form (its sizes): no transfer object built.
      expect(builtLazyRounds(s), `n=${n}`).toBe(0);
      const simulated = replaySchedule(topo, s, entries, 'max-min');
      const fifo = replaySchedule(topo, s, entries, 'fifo');
      // The clock arithmetic, the flow simulation and the message replay: the same doubles.
      expect([...fast.finish], `n=${n}`).toEqual([...simulated.finish]);
      expect([...simulated.finish], `n=${n}`).toEqual([...fifo.finish]);
      for (let r = 0; r < n; r++) expect(fast.sent!(r), `n=${n} rank ${r}`).toEqual(simulated.sent!(r));
      // A tree's ring routes cross uplinks (one ring flow per uplink direction): the same there.
      const tree = buildTopology('tree', n, { bandwidth: B, latency: 1e-5 }, { arity: 2, oversubscription: 2 });
      const t = timeEagerAlone(tree, s, (r) => entries[r]!, 4);
      expect([...t!.finish], `tree n=${n}`).toEqual([...replaySchedule(tree, s, entries, 'max-min').finish]);
    }
    // Gossip rounds on a torus and an exponential graph (neighbours over direct links), a sender's
    // messages of different sizes leaving one after another where they share a link.
    for (const topo of [buildTopology('torus', 12, { bandwidth: B, latency: 3e-5 }, { dims: [3, 4] }), buildTopology('graph', 11, { bandwidth: B, latency: 2e-5 }, { generate: { kind: 'exponential' } })]) {
      const adj = gossipNeighbours(topo)!;
      const sends = adj.map((js) => js.flatMap((j) => [j, Math.floor(rand() * 1e5)]));
      const entries = adj.map(() => rand() * 1e-4);
      const s = declaredRoundSized('gossip', 'gossip', sends);
      const fast = timeEagerAlone(topo, s, (r) => entries[r]!, 4)!;
      expect([...fast.finish], topo.kind).toEqual([...replaySchedule(topo, s, entries, 'max-min').finish]);
      expect([...fast.finish], topo.kind).toEqual([...replaySchedule(topo, s, entries, 'fifo').finish]);
    }
    // Routes that share a link (the graph's middle link) are left to the simulation.
    const middle = buildTopology('graph', 6, { bandwidth: B, latency: 0 }, { edges: [[0, 4], [2, 4], [4, 5], [5, 1], [5, 3]].map(([a, b]) => ({ a: a!, b: b! })) });
    expect(timeEagerAlone(middle, ringAllGatherSized([1, 2, 3, 4, 5, 6]), () => 0, 4)).toBeNull();
    // So are different senders into one NIC (recursive doubling's partners change every round).
    expect(timeEagerAlone(buildTopology('switch', 8, { bandwidth: B, latency: 0 }), recursiveDoublingAllGatherSized(new Array(8).fill(10)), () => 0, 4)).toBeNull();
  });

  it('auto all-gather picks the faster of ring and recursive doubling for the declared sizes (latency-bound: doubling; bandwidth-bound with a fold: ring); without units it keeps the ring', async () => {
    for (const [n, latency, size, want] of [[8, 1e-3, 10, 'recursive-doubling'], [6, 1e-6, 200000, 'ring']] as const) {
      const topo = buildTopology('switch', n, { bandwidth: B, latency });
      const ps = payloads(n, (r) => size + r);
      const run = async (collective: 'auto' | 'ring' | 'recursive-doubling', unit: boolean) => {
        const eps = endpoints(topo, unit, 1, collective);
        expectGathered(await Promise.all(eps.map((ep, r) => allGather(ep, ps[r]!))), ps);
        return { now: eps.map((ep) => ep.now), bytes: eps.map((ep) => ep.stats.bytesSent) };
      };
      const auto = await run('auto', true);
      expect(auto, `n=${n}`).toEqual(await run(want, true));
      expect(auto, `n=${n}`).not.toEqual(await run(want === 'ring' ? 'recursive-doubling' : 'ring', true));
      expect(await run('auto', false)).toEqual(await run('ring', false));
    }
  });

  it('a background all-gather is decided when needed: it shares the links max-min with one entered meanwhile (2 ranks, by hand)', async () => {
    const topo = buildTopology('switch', 2, { bandwidth: B, latency: 0 });
    const m = 125000;
    const T = (8 * m) / B;
    const router = new InprocRouter();
    const timing = unitTiming(topo, null);
    const eps = [0, 1].map((r) => {
      const ep = new Endpoint(r, 2, router, new NetworkModel(topo, null, 'max-min'));
      router.attach(ep);
      configureCollectives(ep, { collective: 'ring', shape: {}, ...timing, messagesAsUnit: true });
      return ep;
    });
    const p = payloads(2, () => m);
    for (const ep of eps) ep.transfers = [];
    const got = await Promise.all(
      eps.map(async (ep, r) => {
        const first = await sendInBackground(ep, async () => void (await allGather(ep, p[r]!)));
        // Its message is not in the timeline before its times are decided (a step reported now
        // would show it without an arrival).
        expect(ep.drainTransfers()).toEqual([]);
        // Entered at 0 while the first is in flight: each NIC carries both at B/2.
        await allGather(ep, p[r]!);
        const second = ep.now;
        awaitBackground(ep, first);
        // Both messages, with the times the joint decision gave them (the second's first).
        expect(ep.drainTransfers().map(([to, bytes, sent, arrival]) => [to, bytes, sent, Math.round((arrival / T) * 1e9) / 1e9])).toEqual([[1 - r, m, 0, 2], [1 - r, m, 0, 2]]);
        return [first.sent, second, first.arrives, ep.now];
      }),
    );
    for (const [sent, second, arrives, now] of got) {
      expect(sent).toBe(0);
      expect(Math.abs(second! - 2 * T) / T).toBeLessThan(1e-12);
      expect(Math.abs(arrives! - 2 * T) / T).toBeLessThan(1e-12);
      expect(Math.abs(now! - 2 * T) / T).toBeLessThan(1e-12);
    }
  });

  it('sized schedules: bytes per round of the ring and of recursive doubling (bundles with 8-byte entries, folded ranks)', () => {
    const sizes = [10, 20, 30, 40, 50];
    const ring = ringAllGatherSized(sizes);
    expect(ring.rounds.map((r) => r.transfers.map((t) => t.bytes))).toEqual([
      [10, 20, 30, 40, 50],
      [50, 10, 20, 30, 40],
      [40, 50, 10, 20, 30],
      [30, 40, 50, 10, 20],
    ]);
    // n = 5: p = 4, rank 0 folds into 1. Round 0: 0 -> 1 (10). Round 1 (new ranks 0..3 = 1, 2, 3, 4):
    // 1 holds {0, 1}: 4 + 18 + 28; 2: 4 + 38; ... Round 3: 1 -> 0 with everything: 4 + 5 x 8 + 150.
    const rd = recursiveDoublingAllGatherSized(sizes);
    expect(rd.rounds.map((r) => r.transfers.map((t) => [t.from, t.to, t.bytes]))).toEqual([
      [[0, 1, 10]],
      [[1, 2, 50], [2, 1, 42], [3, 4, 52], [4, 3, 62]],
      [[1, 3, 4 + 18 + 28 + 38], [2, 4, 4 + 18 + 28 + 38], [3, 1, 4 + 48 + 58], [4, 2, 4 + 48 + 58]],
      [[1, 0, 4 + 40 + 150]],
    ]);
  });
});
