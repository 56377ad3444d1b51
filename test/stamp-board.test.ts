import { describe, expect, it } from 'vitest';
import type { CollectiveOptions } from '../comm/collectives/all-reduce.ts';
import { allGather, configureCollectives } from '../comm/collectives/configured.ts';
import { sendStamp } from '../comm/collectives/run-sized-unit.ts';
import { leaveStampBoard, stampBoardOf } from '../comm/collectives/stamp-board.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { NeighbourExchange } from '../optimizers/common/gossip-exchange.ts';
import { unitTimer } from '../src/runtime/collective-setup.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';

/**
 * The stamp board keeps an op's stamps only until every live rank of its process has read them:
 * nothing is left after a run, whether a process holds one rank (the usual ws layout: the board
 * is not used) or all of them, and a rank that crashed is not waited for.
 */
function endpoints(topo: Topology, blocks: number): Endpoint[] {
  const n = topo.workers;
  const router = new InprocRouter();
  const options = Array.from({ length: blocks }, (): CollectiveOptions => ({ collective: 'ring', shape: {}, timeAsUnit: unitTimer(topo, null), messagesAsUnit: true }));
  return Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo, null, 'max-min'));
    router.attach(ep);
    configureCollectives(ep, options[Math.floor((r * blocks) / n)]!);
    return ep;
  });
}

const kept = (eps: Endpoint[]) => [...new Set(eps.map((ep) => stampBoardOf(ep)!))].reduce((x, b) => x + b.kept, 0);

describe('stamp board', () => {
  const torus = buildTopology('torus', 9, { bandwidth: 1e9, latency: 1e-5 }, { dims: [3, 3] });
  const adj = gossipNeighbours(torus)!;

  it('is empty after k all-gathers and gossip rounds, one rank per process and all ranks in one, and the metadata is never counted', async () => {
    const bytesFrom: number[][] = [];
    for (const blocks of [9, 3, 1]) {
      const eps = endpoints(torus, blocks);
      const ex = eps.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj));
      for (let k = 0; k < 3; k++) {
        await Promise.all(eps.map((ep) => allGather(ep, new Uint8Array(10 + ep.rank + k))));
        await Promise.all(ex.map((x) => x.exchange(new Uint8Array(20))));
      }
      expect(kept(eps), `${blocks} processes`).toBe(0);
      // Downlink bytes are payloads only: the same whatever the packing.
      bytesFrom.push(eps.flatMap((ep) => [...ep.stats.bytesFrom.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)));
    }
    expect(bytesFrom[1]).toEqual(bytesFrom[0]);
    expect(bytesFrom[2]).toEqual(bytesFrom[0]);
  });

  it('forgets a crashed rank: stamps it posted and never read are dropped when it leaves', async () => {
    const sw = buildTopology('switch', 3, { bandwidth: 1e9, latency: 1e-5 });
    const eps = endpoints(sw, 1);
    // Rank 2 enters an all-gather (its stamp is on the board) and crashes before reading any.
    const op = eps[2]!.nextOp();
    sendStamp(eps[2]!, op, [10]);
    eps[2]!.sendUntimed(0, op, 0, new Uint8Array(10));
    const others = Promise.all(eps.slice(0, 2).map((ep) => allGather(ep, new Uint8Array(10))));
    // Ranks 0 and 1 have read every stamp; rank 2's op is kept for rank 2.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(kept(eps)).toBe(1);
    leaveStampBoard(eps[2]!);
    expect(kept(eps)).toBe(0);
    void others.catch(() => {});
    // A rank that crashed before entering: the others fail at once with a clear error (its stamp
    // will never come), and nothing is kept.
    const again = endpoints(sw, 1);
    leaveStampBoard(again[2]!);
    await expect(Promise.all(again.slice(0, 2).map((ep) => allGather(ep, new Uint8Array(10))))).rejects.toThrow(/stamp board: rank 2 crashed or failed before entering this collective/);
    expect(kept(again)).toBe(0);
  });
});
