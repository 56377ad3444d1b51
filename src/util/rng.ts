/**
 * Seeded pseudo-random numbers. Every random choice in dtemu (initial weights, shuffles,
 * partitions, straggler delays) draws from a stream derived from (seed, purpose, ids...), so
 * results never depend on which process or in which order a stream is consumed.
 */

import { mix32 } from '../../comm/hash.ts';

/** Derive a stream seed from a root seed and any mix of numeric / string ids. */
export function deriveSeed(seed: number, ...ids: (number | string)[]): number {
  // Fold in the bits above 2^32 too, so large seeds do not alias small ones.
  let h = mix32(((seed >>> 0) ^ 0x9e3779b9) + mix32(Math.floor(seed / 4294967296) >>> 0));
  for (const id of ids) {
    if (typeof id === 'number') {
      h = mix32(h ^ mix32((id >>> 0) + 0x7f4a7c15));
    } else {
      for (let i = 0; i < id.length; i++) h = mix32(h ^ (id.charCodeAt(i) + 0x165667b1));
    }
  }
  return h;
}

/** sfc32: small, fast, well-tested generator with 128 bits of state. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, ...ids: (number | string)[]) {
    const s = deriveSeed(seed, ...ids);
    this.a = s;
    this.b = mix32(s + 1);
    this.c = mix32(s + 2);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by Box-Muller (one value per call; simple and deterministic). */
  normal(): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  exponential(mean: number): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    return -Math.log(u) * mean;
  }

  /** Gamma(shape, 1) by Marsaglia-Tsang; used for Dirichlet partitions. */
  gamma(shape: number): number {
    if (shape < 1) {
      const u = this.next();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}
