import type { Compressor, Uniform } from './compressor.ts';

/**
 * An unbiased compressor C with variance E||C(x) - x||^2 <= omega ||x||^2 becomes a contraction
 * when scaled: C/(1+omega) satisfies E||C(x)/(1+omega) - x||^2 <= (1 - 1/(1+omega)) ||x||^2.
 * Error feedback needs a contraction; without the scaling, a quantiser with omega > 1 (QSGD with
 * few levels on a long vector) makes the error memory grow until training diverges. This is the
 * operator Qsparse-local-SGD composes with error compensation (Basu et al. 2019).
 * The bytes on the wire are the inner compressor's; only decoding scales.
 */
export class Contractive implements Compressor {
  readonly name: string;
  readonly dense: boolean;

  constructor(
    private readonly inner: Compressor,
    /** omega for a vector of d elements. */
    private readonly omega: (d: number) => number,
  ) {
    this.name = `${inner.name}/(1+ω)`;
    this.dense = inner.dense;
  }

  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    return this.inner.encode(x, uniform);
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    out.fill(0);
    this.inner.decodeAdd(payload, out, 1 / (1 + this.omega(out.length)));
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    this.inner.decodeAdd(payload, out, scale / (1 + this.omega(out.length)));
  }
}

/** QSGD with s levels on d elements: omega = min(d / s^2, sqrt(d) / s) (Alistarh et al. 2017). */
export function qsgdOmega(d: number, s: number): number {
  return Math.min(d / (s * s), Math.sqrt(d) / s);
}
