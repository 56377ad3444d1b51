import { allGatherAverage } from '../comm/collectives/compressed-allgather.ts';
import { psPushPullAverage } from '../comm/collectives/compressed-parameter-server.ts';
import { codecRingAllReduce } from '../comm/collectives/codec-ring-allreduce.ts';
import { createCompressor, type CompressorSpec } from '../comm/compress/factory.ts';
import type { Compressor, Uniform } from '../comm/compress/compressor.ts';
import { createErrorFeedback, Ef21Receiver, type ErrorFeedback, type FeedbackMode } from '../comm/compress/error-feedback.ts';
import type { Segment } from '../comm/compress/per-tensor.ts';
import type { Endpoint } from '../comm/endpoint.ts';

export type Aggregation = 'allgather' | 'ring' | 'ps';

export interface ExchangeConfig {
  compressor: CompressorSpec;
  errorFeedback: FeedbackMode;
  aggregation: 'auto' | Aggregation;
}

/**
 * Which path a compressor's payloads take (README, "Aggregation paths"):
 * - dense, data-independent payloads (none, fp16, bf16) are reduced along the ring, hop by hop,
 *   like a plain all-reduce: each worker sends 2(n-1)/n of the encoded vector;
 * - everything else (sparse or quantised payloads whose sum is not itself a payload) is
 *   all-gathered: each worker sends its payload plus n-2 forwarded ones, (n-1) payloads in all,
 *   and decodes the average itself — no dense vector travels;
 * - `ps` (star topology) pushes payloads to the server, which replies with the dense average.
 */
export function resolveAggregation(cfg: ExchangeConfig, compressor: Compressor, topology: string): Aggregation {
  if (cfg.aggregation !== 'auto') return cfg.aggregation;
  if (topology === 'star') return 'ps';
  return compressor.dense ? 'ring' : 'allgather';
}

/**
 * One worker's compressed exchange: error feedback around the compressor, then the average of
 * every worker's decoded vector by the chosen aggregation path. All workers end with identical
 * averages (decoding happens in rank order everywhere).
 */
export class CompressedExchange {
  readonly compressor: Compressor;
  readonly feedback: ErrorFeedback;
  readonly aggregation: Aggregation;
  private readonly ef21: Ef21Receiver | null;
  private readonly dense: Float32Array;

  constructor(
    cfg: ExchangeConfig,
    length: number,
    segments: readonly Segment[],
    topology: string,
  ) {
    this.compressor = createCompressor(cfg.compressor, segments);
    this.feedback = createErrorFeedback(cfg.errorFeedback, this.compressor, length);
    this.aggregation = resolveAggregation(cfg, this.compressor, topology);
    this.ef21 = cfg.errorFeedback === 'ef21' ? new Ef21Receiver(this.compressor, length) : null;
    this.dense = new Float32Array(length);
  }

  /** out = average over workers of what each transmitted for `v` (EF-compressed). */
  async average(ep: Endpoint, v: Float32Array, uniform: Uniform, out: Float32Array): Promise<void> {
    const payload = this.feedback.step(v, uniform);
    switch (this.aggregation) {
      case 'allgather': {
        if (!this.ef21) {
          await allGatherAverage(ep, this.compressor, payload, out);
          return;
        }
        // EF21: every worker is also a receiver, keeping sum_i g_i; the direction is its mean.
        const all = await allGatherAverage(ep, this.compressor, payload, out);
        for (const p of all) this.ef21.receive(p);
        this.ef21.average(out, ep.size);
        return;
      }
      case 'ps':
        await psPushPullAverage(ep, payload, out);
        return;
      case 'ring': {
        // Reduce the decoded vectors hop by hop; partial sums are re-encoded at every hop.
        this.compressor.decode(payload, this.dense);
        await codecRingAllReduce(ep, this.dense, this.compressor, uniform);
        const inv = 1 / ep.size;
        for (let i = 0; i < out.length; i++) out[i] = this.dense[i]! * inv;
        return;
      }
    }
  }
}
