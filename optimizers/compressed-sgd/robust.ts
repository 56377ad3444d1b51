/**
 * compressed-sgd with a robust aggregator: each worker still sends C(e + g) (error feedback as
 * configured), but the payloads are not averaged on the way. They are all-gathered and every
 * worker decodes each one into its own vector and aggregates the n vectors in rank order (all
 * workers get the same result); on a star (aggregation ps) the server does the same and sends
 * the dense aggregate back. A summing path (the dense ring, whose partial sums are re-encoded at
 * every hop) cannot carry it, and EF21's receiver keeps a sum: both are refused by the rules.
 */
import type { AggregatorSpec } from '../../comm/aggregate/index.ts';
import { allGather } from '../../comm/collectives/configured.ts';
import { psPushPull, psServeRoundWith } from '../../comm/collectives/parameter-server.ts';
import { compressorFor, resolveAggregation, type CompressedExchange, type ExchangeConfig } from '../../comm/communicator.ts';
import type { Segment } from '../../comm/compress/per-tensor.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { AggregatorPool } from '../common/aggregator-option.ts';

type Uniform = () => number;

/** The worker side: out <- A(decode(p_1), ..., decode(p_n)). */
export class RobustCompressedExchange {
  private readonly pool: AggregatorPool;
  private decoded: Float32Array[] = [];

  constructor(
    private readonly exchange: CompressedExchange,
    spec: AggregatorSpec,
    private readonly star: boolean,
  ) {
    this.pool = new AggregatorPool(spec);
  }

  async aggregate(ep: Endpoint, v: Float32Array, uniform: Uniform, out: Float32Array): Promise<void> {
    const payload = this.exchange.feedback.step(v, uniform);
    if (this.star) return psPushPull(ep, payload, out);
    const all = await allGather(ep, payload);
    if (this.decoded.length !== all.length) this.decoded = all.map(() => new Float32Array(out.length));
    all.forEach((p, r) => this.exchange.compressor.decode(p, this.decoded[r]!));
    this.pool.get(all.length).aggregate(this.decoded, out);
  }
}

/** The server on a star (aggregation ps): decode every push, aggregate, reply with the dense result. */
export async function serveRobustCompressed(server: Endpoint, cfg: ExchangeConfig, spec: AggregatorSpec, segments: readonly Segment[], length: number, topology: string): Promise<void> {
  const compressor = compressorFor(cfg.compressor, segments, length, cfg.errorFeedback);
  if (resolveAggregation(cfg, compressor, topology) !== 'ps') return;
  const pool = new AggregatorPool(spec);
  let decoded: Float32Array[] = [];
  const combine = (payloads: Uint8Array[]): Float32Array => {
    if (decoded.length !== payloads.length) decoded = payloads.map(() => new Float32Array(length));
    payloads.forEach((p, r) => compressor.decode(p, decoded[r]!));
    const out = new Float32Array(length);
    pool.get(payloads.length).aggregate(decoded, out);
    return out;
  };
  while (await psServeRoundWith(server, combine)) {
    /* next round */
  }
}
