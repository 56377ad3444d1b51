/**
 * Gradient compressors (issue #4). A compressor turns a Float32Array into the exact bytes that
 * travel on the wire, and turns those bytes back into a dense vector. Bits are always counted
 * from `encode`'s output, never from a formula.
 *
 * comm/ imports nothing of ours: stochastic compressors draw from the `uniform` callback the
 * caller passes (a seeded stream, so results are deterministic).
 */
export type Uniform = () => number;

export interface Compressor {
  /** e.g. "topk(0.01)", "qsgd(s=4)", "sign∘topk(0.01)". */
  readonly name: string;
  /**
   * True when the decoded vector of a sum equals the sum of decoded vectors and the payload size
   * does not depend on the data (fp16, bf16): such payloads may be reduced along a ring.
   * Otherwise aggregation goes through all-gather or a parameter server.
   */
  readonly dense: boolean;
  /** Compress x into a fresh wire payload. Must not modify x. */
  encode(x: Float32Array, uniform: Uniform): Uint8Array;
  /** out = decompress(payload); out.length is the original length. */
  decode(payload: Uint8Array, out: Float32Array): void;
  /** out += scale * decompress(payload), without a temporary dense vector. */
  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void;
}
