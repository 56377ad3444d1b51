import { describe, expect, it } from 'vitest';
import type { CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { configureCollectives } from '../comm/collectives/configured.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { ONEBIT_NAMESPACE, oneBitChunk, oneBitChunkedAllReduce } from '../comm/onebit-adam/compressed-allreduce.ts';
import { OneBitAdamServer } from '../comm/onebit-adam/onebit-adam.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { GOSSIP_NAMESPACE, NeighbourExchange } from '../optimizers/common/gossip-exchange.ts';
import { exchangeGraph } from '../optimizers/common/gossip-setup.ts';
import { unitTimer } from '../src/runtime/collective-setup.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';

/**
 * Declared rounds (gossip, 1-bit Adam's all-to-all) timed as units: a rank's entry stamp is
 * hostile until every rank has checked the whole declared pattern against what the collective
 * allows (its neighbours, one message per receiver, a bounded count); a violation fails the run
 * with a one-line error naming the rank and what it declared, on every rank.
 */
const B = 1e9;

/** One "process" per rank: every stamp travels as a metadata message (parsed as hostile). */
function endpoints(topo: Topology): Endpoint[] {
  const n = topo.workers;
  const router = new InprocRouter();
  return Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo, null, 'max-min'));
    router.attach(ep);
    const o: CollectiveOptions = { collective: 'ring', shape: {}, timeAsUnit: unitTimer(topo, null), messagesAsUnit: true };
    configureCollectives(ep, o);
    return ep;
  });
}

function stamp(values: number[], count = values.length): Uint8Array {
  const b = new Uint8Array(12 + 8 * values.length);
  const dv = new DataView(b.buffer);
  dv.setFloat64(0, 0, true);
  dv.setUint32(8, count, true);
  values.forEach((v, i) => dv.setFloat64(12 + 8 * i, v, true));
  return b;
}

/** Every honest rank's round must fail with `message` (none may time the forged round). */
async function expectAllReject(rounds: Promise<unknown>[], message: RegExp): Promise<void> {
  const settled = await Promise.allSettled(rounds);
  settled.forEach((s, r) => {
    expect(s.status, `rank ${r}`).toBe('rejected');
    expect(String((s as PromiseRejectedResult).reason), `rank ${r}`).toMatch(message);
  });
}

describe('declared rounds: hostile declarations', () => {
  const torus = buildTopology('torus', 9, { bandwidth: B, latency: 1e-5 }, { dims: [3, 3] });
  const adj = gossipNeighbours(torus)!;

  it('gossip: a message to a non-neighbour, two messages to one neighbour, a neighbour left out, too many values: every rank refuses the round', async () => {
    expect(adj[0]).toEqual([1, 2, 3, 6]);
    const honest = (to: number[]) => to.flatMap((j) => [j, 10]);
    const cases: [number[], number, RegExp][] = [
      // 4 is not a neighbour of 0: it would join 4's clock (2^40 bytes: hours) and share links.
      [[...honest([1, 2, 3]), 4, 2 ** 40], 0, /gossip: rank 0 declared a message to 4, which is not one of its neighbours \(1, 2, 3, 6\)/],
      // Two messages declared to 1 (and one payload sent).
      [[1, 10, 1, 10, 2, 10, 3, 10], 0, /gossip: rank 0 declared 2 messages to 1, expected at most one/],
      // Leaving a neighbour out: every rank sees it, not only the neighbour left waiting.
      [honest([1, 2, 3]), 0, /gossip: rank 0 declared 3 messages, expected 4 \(one to each of its neighbours\)/],
      // 2 x (n - 1) values for a rank of degree 4: refused before anything is allocated for them.
      [new Array(16).fill(1), 0, /gossip: entry stamp from 0 declares 16 values, expected at most 8/],
    ];
    for (const [declared, from, message] of cases) {
      const eps = endpoints(torus);
      const bad = eps[from]!;
      const op = bad.nextOp(GOSSIP_NAMESPACE);
      for (const ep of eps) if (ep !== bad) bad.sendMeta(ep.rank, op, 0x7ffffff1, stamp(declared));
      for (const j of adj[from]!) bad.sendUntimed(j, op, 0, new Uint8Array(10));
      const rounds = eps.filter((ep) => ep !== bad).map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj).exchange(new Uint8Array(10)));
      await expectAllReject(rounds, message);
    }
  });

  it("the exchange sets every rank checks: the topology's neighbours under a named rule, a user W's non-zero columns (an edge weighted 0 carries no message)", () => {
    const cycle = [[1, 3], [0, 2], [1, 3], [0, 2]];
    expect(exchangeGraph('metropolis-hastings', cycle)).toBe(cycle);
    // Edge 0-1 weighted 0: 0 and 1 do not exchange.
    const weights = [[0.5, 0, 0, 0.5], [0, 0.5, 0.5, 0], [0, 0.5, 0.25, 0.25], [0.5, 0, 0.25, 0.25]];
    expect(exchangeGraph({ weights }, cycle)).toEqual([[3], [2], [1, 3], [0, 2]]);
  });

  it("1-bit Adam's all-to-all: two chunks to one rank and none to another, or a count beyond 2 (n - 1): every rank refuses", async () => {
    const n = 4;
    const d = 64;
    const sw = buildTopology('switch', n, { bandwidth: B, latency: 1e-5 });
    const cases: [number[], RegExp][] = [
      [[0, 17, 0, 17, 2, 17], /1-bit all-to-all: rank 3 declared 2 messages to 0, expected at most one/],
      [new Array(8).fill(1), /1-bit all-to-all: entry stamp from 3 declares 8 values, expected at most 6/],
      [[0, 17, 1, 17], /1-bit all-to-all: rank 3 declared 2 messages, expected 3 \(one to each other rank\)/],
    ];
    for (const [declared, message] of cases) {
      const eps = endpoints(sw);
      const bad = eps[3]!;
      const op = bad.nextOp(ONEBIT_NAMESPACE);
      for (const ep of eps) if (ep !== bad) bad.sendMeta(ep.rank, op, 0x7ffffff1, stamp(declared));
      const rounds = eps
        .filter((ep) => ep !== bad)
        .map((ep) => {
          const { start, end } = oneBitChunk(ep.rank, d, n);
          return oneBitChunkedAllReduce(ep, new Float32Array(d).fill(1), 1, new OneBitAdamServer(end - start), new Float32Array(d));
        });
      await expectAllReject(rounds, message);
    }
  });
});
