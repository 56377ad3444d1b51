/**
 * Robust aggregation on the synchronous path. A robust aggregator needs every worker's vector,
 * so a summing all-reduce cannot carry it:
 *
 * - on worker topologies (ring, torus, graph, ...) the fp32 gradients are all-gathered (the
 *   configured all-gather: ring, or recursive doubling) and every worker aggregates the same n
 *   vectors in rank order, so all of them apply the same update;
 * - on a star each worker pushes its gradient to the parameter server, which aggregates the n
 *   pushes and sends the result back (the dense push/pull of psAllReduce, robust instead of a sum).
 *
 * Bits are whatever these collectives send: (n - 1) d fp32 values per worker for the all-gather,
 * d up and d down per worker through the master.
 */
import type { AggregatorSpec } from '../../comm/aggregate/index.ts';
import { allGather } from '../../comm/collectives/configured.ts';
import { bytesToF32, f32Bytes } from '../../comm/collectives/chunks.ts';
import { psPushPull, psServeRoundWith } from '../../comm/collectives/parameter-server.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { AggregatorPool } from './aggregator-option.ts';

/** The worker side: `out` <- the aggregate of every worker's `grad` (grad is not modified). */
export class RobustExchange {
  private readonly pool: AggregatorPool;

  constructor(
    spec: AggregatorSpec,
    private readonly topology: string,
  ) {
    this.pool = new AggregatorPool(spec);
  }

  async aggregate(ep: Endpoint, grad: Float32Array, out: Float32Array): Promise<void> {
    const bytes = f32Bytes(grad, 0, grad.length);
    if (this.topology === 'star') return psPushPull(ep, bytes, out);
    const payloads = await allGather(ep, bytes);
    const vectors = payloads.map((p, r) => {
      const v = bytesToF32(p);
      if (v.length !== grad.length) throw new Error(`robust all-gather: rank ${r} sent ${v.length} values, expected ${grad.length}`);
      return v;
    });
    this.pool.get(vectors.length).aggregate(vectors, out);
  }
}

/** The master on a star: every round, the robust aggregate of the n pushes, sent back to all. */
export async function serveRobustAggregates(server: Endpoint, spec: AggregatorSpec): Promise<void> {
  const pool = new AggregatorPool(spec);
  const combine = (payloads: Uint8Array[]): Float32Array => {
    const vectors = payloads.map(bytesToF32);
    const len = vectors[0]!.length;
    vectors.forEach((v, r) => {
      if (v.length !== len) throw new Error(`parameter server: rank ${r} pushed ${v.length} values, rank 0 pushed ${len}`);
    });
    // A fresh vector per round: it is sent while the next round may already be combined.
    const out = new Float32Array(len);
    pool.get(vectors.length).aggregate(vectors, out);
    return out;
  };
  while (await psServeRoundWith(server, combine)) {
    /* next round */
  }
}
