/**
 * The small seeded normal stream PowerSGD draws its initial Q from. Every worker must draw the
 * same Q, so the stream depends only on (seed, ids...) and on nothing a worker owns.
 *
 * Generator: splitmix32 (a Weyl sequence 0x9e3779b9 through a 32-bit avalanche mix), two outputs
 * per uniform for 53 bits, Box-Muller for normals (both values of each pair are used).
 * The state is one u32 kept in a Uint32Array, so reseeding and drawing allocate nothing.
 */

import { mix32 } from '../hash.ts';

export { mix32 };

/**
 * A u32 stream seed from a root seed (any safe integer, bits above 2^32 included, negative ones
 * too) and two u32 ids. Fixed arity: called per step without warm start, it must not allocate.
 */
export function streamSeed(seed: number, a = 0, b = 0): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`powersgd: seed must be a safe integer, got ${seed}`);
  const hi = Math.floor(seed / 4294967296);
  let h = mix32((mix32((seed >>> 0) ^ 0x243f6a88) + mix32((hi >>> 0) ^ 0x85a308d3)) >>> 0);
  h = mix32((h ^ mix32(((a >>> 0) + 0x13198a2e) >>> 0)) >>> 0);
  h = mix32((h ^ mix32(((b >>> 0) + 0x03707344) >>> 0)) >>> 0);
  return h;
}

const TWO_PI = 2 * Math.PI;

export class NormalStream {
  private readonly state = new Uint32Array(1);
  private spare = 0;
  private hasSpare = false;

  constructor(seed = 0) {
    this.reseed(seed);
  }

  /** Restart the stream at a u32 seed (what `streamSeed` returns). */
  reseed(seed: number): void {
    this.state[0] = seed >>> 0;
    this.hasSpare = false;
    this.spare = 0;
  }

  /** splitmix32 step. */
  nextU32(): number {
    const s = (this.state[0]! + 0x9e3779b9) >>> 0;
    this.state[0] = s;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** Uniform in the open interval (0, 1), 53 bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** Standard normal (Box-Muller; the sine half of each pair is returned by the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const a = TWO_PI * this.uniform();
    this.spare = r * Math.sin(a);
    this.hasSpare = true;
    return r * Math.cos(a);
  }

  /** dst[off .. off+len) <- standard normals (rounded to float32 by the store). */
  fillNormal(dst: Float32Array, off: number, len: number): void {
    for (let i = 0; i < len; i++) dst[off + i] = this.normal();
  }
}
