import { allGatherAverage } from './collectives/compressed-allgather.ts';
import { psPushPull } from './collectives/parameter-server.ts';
import { codecRingAllReduce } from './collectives/codec-ring-allreduce.ts';
import { psServeCompressedRound } from './collectives/compressed-parameter-server.ts';
import { createCompressor, type CompressorSpec } from './compress/factory.ts';
import type { Compressor, Uniform } from './compress/compressor.ts';
import { createPluginCompressor } from './compress/plugin.ts';
import { createErrorFeedback, Ef21Receiver, type ErrorFeedback, type FeedbackMode } from './compress/error-feedback.ts';
import { PerTensor, type Segment } from './compress/per-tensor.ts';
import { Contractive, qsgdOmega } from './compress/contractive.ts';
import { countForRatio } from './compress/ratio.ts';
import type { Endpoint } from './endpoint.ts';

export type Aggregation = 'allgather' | 'ring' | 'ps';

/** A compressor spec as configured: the factory's spec plus an optional bucket size, or a plugin module. */
export type ConfiguredCompressor = (CompressorSpec & { bucket?: number; module?: undefined }) | PluginSpec;

/** `{ module: <absolute path>, ...options }`: a compressor from a user module. */
export type PluginSpec = { kind?: undefined; module: string } & Record<string, unknown>;

export function isPluginSpec(spec: ConfiguredCompressor): spec is PluginSpec {
  return typeof spec.module === 'string';
}

export interface ExchangeConfig {
  compressor: ConfiguredCompressor;
  errorFeedback: FeedbackMode;
  aggregation: 'auto' | Aggregation;
}

/**
 * Build the configured compressor for vectors of `length` elements. `bucket: B` compresses
 * consecutive blocks of B elements independently (each with its own norm/scale), as the QSGD
 * paper does to keep the quantisation variance, which grows with sqrt(d)/s, in check.
 */
export function compressorFor(spec: ConfiguredCompressor, segments: readonly Segment[], length: number, feedback: FeedbackMode): Compressor {
  // A plugin (comm/compress/plugin.ts) handles the whole vector with its own options.
  if (isPluginSpec(spec)) return createPluginCompressor(spec);
  const { bucket, ...rest } = spec;
  const base = rest as CompressorSpec;
  let parts: readonly Segment[] | null = base.perTensor ? segments : null;
  if (bucket !== undefined) {
    const buckets: Segment[] = [];
    for (let o = 0; o < length; o += bucket) buckets.push({ offset: o, size: Math.min(bucket, length - o) });
    parts = buckets;
  }
  // Unbiased quantisers under error feedback are scaled into contractions (contractive.ts).
  const omega = contractionOmega(base, feedback);
  const one = (): Compressor => {
    const c = createCompressor({ ...base, perTensor: false });
    return omega ? new Contractive(c, omega) : c;
  };
  return parts ? new PerTensor(parts, one) : one();
}

function contractionOmega(spec: CompressorSpec, feedback: FeedbackMode): ((d: number) => number) | null {
  if (feedback === 'none') return null;
  if (spec.kind === 'qsgd') return (d) => qsgdOmega(d, spec.levels);
  if (spec.kind === 'qsgd-topk') return (d) => qsgdOmega(countForRatio(d, spec.ratio), spec.levels);
  return null;
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
    this.compressor = compressorFor(cfg.compressor, segments, length, cfg.errorFeedback);
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
        await psPushPull(ep, payload, out);
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

/**
 * The parameter-server side of the communicator on a star (aggregation `ps`): every round, decode
 * and average the workers' payloads and reply with the dense average, until the run is over.
 * Other aggregation paths need no server: returns at once.
 */
export async function serveCompressedAverages(server: Endpoint, cfg: ExchangeConfig, segments: readonly Segment[], length: number, topology: string): Promise<void> {
  const compressor = compressorFor(cfg.compressor, segments, length, cfg.errorFeedback);
  if (resolveAggregation(cfg, compressor, topology) !== 'ps') return;
  while (await psServeCompressedRound(server, compressor, length)) {
    /* next round */
  }
}
