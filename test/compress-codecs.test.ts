// Wire codecs of the compressors: half-precision conversions against an independent reference,
// index coding (u32 vs delta-varint, whichever is smaller), round trips of every compressor on
// every length 0..64 and on large vectors against a plain reference implementation of its
// definition, payload sizes against the bits-per-element formulas, and corrupt-payload errors.
import { describe, expect, it } from 'vitest';
import {
  cast16BitsPerElement,
  createCompressor,
  identityBitsPerElement,
  qsgdBitsPerElement,
  qsgdTopkBitsPerElement,
  randomkBitsPerElement,
  signBitsPerElement,
  signTopkBitsPerElement,
  terngradBitsPerElement,
  thresholdBitsPerElement,
  topkBitsPerElement,
  type Compressor,
  type CompressorSpec,
} from '../comm/compress/index.ts';
import { bf16ToF32Table, f16ToF32Table, f32BitsToBf16, f32BitsToF16 } from '../comm/compress/half.ts';
import { chooseIndexCoding, deltaVarintBytes, readIndices, varintSize, writeIndices } from '../comm/compress/index-coding.ts';
import { encodeSparse } from '../comm/compress/sparse-codec.ts';
import { expectedVarintBytes } from '../comm/compress/bits-formula.ts';
import { mulberry32, normals, roundUpF32 } from './helpers/prng.ts';



const F = new Float32Array(1);
const U = new Uint32Array(F.buffer);
const bitsOf = (x: number) => ((F[0] = x), U[0]!);
const fromBits = (b: number) => ((U[0] = b), F[0]!);

// ---------------------------------------------------------------------------------------------
// Reference rounding, written differently from half.ts: nearest representable value by search.

/** Non-negative fp16 values 0x0000..0x7bff, plus 65536 standing in for 0x7c00 (overflow midpoint 65520). */
const HALVES = (() => {
  const v = new Float64Array(0x7c01);
  for (let h = 0; h < 0x7c00; h++) {
    const e = h >>> 10;
    const m = h & 0x3ff;
    v[h] = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
  }
  v[0x7c00] = 65536;
  return v;
})();

function refF16(x: number): number {
  x = Math.fround(x);
  if (Number.isNaN(x)) return NaN;
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let r: number;
  if (a >= 65536) r = Infinity;
  else {
    let lo = 0;
    let hi = 0x7c00; // HALVES[lo] <= a < HALVES[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (HALVES[mid]! <= a) lo = mid;
      else hi = mid;
    }
    const dl = a - HALVES[lo]!;
    const dh = HALVES[hi]! - a;
    const h = dl < dh || (dl === dh && lo % 2 === 0) ? lo : hi;
    r = h === 0x7c00 ? Infinity : HALVES[h]!;
  }
  return neg ? -r : r;
}

/** Value of a float32 bit pattern, continuing the exponent past 254 so 0x7f800000 reads as 2^128. */
function extendedValue(p: number): number {
  const e = (p >>> 23) & 0xff;
  const m = p & 0x7fffff;
  return e === 0 ? m * 2 ** -149 : (1 + m / 2 ** 23) * 2 ** (e - 127);
}

function refBf16(x: number): number {
  x = Math.fround(x);
  if (Number.isNaN(x)) return NaN;
  const b = bitsOf(x);
  const sign = b & 0x80000000;
  const mag = b & 0x7fffffff;
  const lo = mag & 0xffff0000;
  if (lo === mag) return x;
  const hi = lo + 0x10000;
  const a = Math.abs(x);
  const dl = a - extendedValue(lo);
  const dh = extendedValue(hi) - a;
  const pick = dl < dh || (dl === dh && ((lo >>> 16) & 1) === 0) ? lo : hi;
  return fromBits((sign | pick) >>> 0);
}

describe('half-precision conversions', () => {
  it('fp16: every finite and infinite half converts back to itself; NaNs stay NaN', () => {
    const t = f16ToF32Table();
    for (let h = 0; h < 65536; h++) {
      const back = f32BitsToF16(bitsOf(t[h]!));
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) expect((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0).toBe(true);
      else expect(back).toBe(h);
    }
  });

  it('fp16: random float32 patterns round to the nearest half, ties to even', () => {
    const rand = mulberry32(1);
    const t = f16ToF32Table();
    for (let n = 0; n < 200_000; n++) {
      // Uniform bit patterns cover every exponent; the second form concentrates on the half range,
      // and the third lands exactly on midpoints between halves (ties).
      let x: number;
      if (n % 3 === 0) x = fromBits(Math.floor(rand() * 2 ** 32));
      else if (n % 3 === 1) x = Math.fround((rand() - 0.5) * 2 ** (Math.floor(rand() * 44) - 26));
      else {
        const h = Math.floor(rand() * 0x7bff);
        x = Math.fround((HALVES[h]! + HALVES[h + 1]!) / 2);
      }
      const got = t[f32BitsToF16(bitsOf(x))]!;
      expect(Object.is(got, refF16(x)) || (Number.isNaN(got) && Number.isNaN(x))).toBe(true);
    }
  });

  it('bf16: random float32 patterns round to the nearest bf16, ties to even, NaN stays NaN', () => {
    const rand = mulberry32(2);
    const t = bf16ToF32Table();
    for (let n = 0; n < 200_000; n++) {
      const b = n % 2 === 0 ? Math.floor(rand() * 2 ** 32) : ((Math.floor(rand() * 2 ** 16) << 16) | 0x8000) >>> 0; // ties
      const x = fromBits(b);
      const got = t[f32BitsToBf16(b)]!;
      if (Number.isNaN(x)) expect(Number.isNaN(got)).toBe(true);
      else expect(Object.is(got, refBf16(x))).toBe(true);
    }
    expect(t[f32BitsToBf16(0x7f7fffff)]).toBe(Infinity);
    expect(Number.isNaN(t[f32BitsToBf16(0x7fffffff)]!)).toBe(true); // would carry into +inf without the NaN rule
  });
});

// ---------------------------------------------------------------------------------------------
// Index coding.

describe('index coding', () => {
  it('LEB128 sizes at the boundaries and exact round trips of extreme gaps', () => {
    expect([0, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1].map(varintSize)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    const d = 2 ** 32 - 1;
    const idx = Uint32Array.from([0, 1, 129, 129 + 16385, 2 ** 31, 2 ** 32 - 2]);
    for (const varint of [false, true]) {
      const buf = new Uint8Array(64);
      const end = writeIndices(idx, idx.length, d, varint, buf, 3);
      expect(end - 3).toBe(varint ? deltaVarintBytes(idx, idx.length) : 24);
      const back = new Uint32Array(idx.length);
      expect(readIndices(buf, 3, idx.length, d, varint, back)).toBe(end);
      expect(Array.from(back)).toEqual(Array.from(idx));
    }
    // gaps: 0, 0, 127, 16384, 2^31 - 16514 - 1, 2^31 - 3: 1 + 1 + 1 + 3 + 5 + 5 bytes
    expect(deltaVarintBytes(idx, idx.length)).toBe(16);
  });

  it('each message takes the smaller coding: dense-ish supports favour varint, a few indices spread over 2^28+ favour u32', () => {
    // k = 50% of d = 1M, random support: gaps are mostly 0 or 1 -> 1 byte each, vs 4 for u32.
    const d = 1_000_000;
    const rand = mulberry32(3);
    const x = normals(d, rand);
    const half = createCompressor({ kind: 'topk', ratio: 0.5 }).encode(x, rand);
    expect(half[5]! & 1).toBe(1); // varint flag
    const k = d / 2;
    expect(half.byteLength).toBe(10 + 4 * k + k); // every gap < 128 at this density
    // 3 indices spread over d = 2^32 - 1: gaps > 2^28 take 5 bytes each (15) vs 12 bytes as u32.
    const big = Uint32Array.from([1_000_000_000, 2_500_000_000, 4_000_000_000]);
    expect(chooseIndexCoding(big, 3)).toEqual({ varint: false, bytes: 12 });
    const p = encodeSparse(2 ** 32 - 1, 3, big, Float32Array.from([1, 2, 3]), 'f32');
    expect(p[5]! & 1).toBe(0);
    expect(p.byteLength).toBe(10 + 12 + 12);
    // Below 2^28 varint never loses; a lone index at 2^23 costs 4 bytes either way: tie -> u32.
    expect(chooseIndexCoding(Uint32Array.from([2 ** 23]), 1)).toEqual({ varint: false, bytes: 4 });
    expect(chooseIndexCoding(Uint32Array.from([2 ** 20]), 1)).toEqual({ varint: true, bytes: 3 });
    // The formula agrees: at d = 2^31, k = 4 the expected varint size exceeds 16 bytes.
    expect(expectedVarintBytes(2 ** 31, 4)).toBeGreaterThan(16);
    expect(expectedVarintBytes(1_000_000, 500_000)).toBeLessThan(1.01 * 500_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Reference implementations of every compressor's definition (slow and plain: sort, Set, float64).


function kFor(d: number, ratio: number): number {
  if (d === 0) return 0;
  const r = ratio * d;
  const n = Math.round(r);
  return Math.min(d, Math.max(1, Math.abs(r - n) <= 1e-9 * Math.max(1, r) ? n : Math.ceil(r)));
}

function refTopIdx(x: Float32Array, k: number): number[] {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : Math.abs(v));
  return Array.from(x.keys())
    .sort((a, b) => key(x[b]!) - key(x[a]!) || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

function refFloyd(d: number, k: number, u: () => number): number[] {
  const s = new Set<number>();
  for (let j = d - k; j < d; j++) {
    const t = Math.floor(u() * (j + 1));
    s.add(s.has(t) ? j : t);
  }
  return [...s].sort((a, b) => a - b);
}

/** QSGD levels of values v against the rounded-up float32 norm; returns decoded values. */
function refQsgdValues(v: number[], s: number, u: () => number): number[] {
  const norm = roundUpF32(Math.sqrt(v.reduce((a, b) => a + b * b, 0)));
  const q = norm / s;
  return v.map((val) => {
    const r = norm > 0 ? Math.abs(val) / q : 0;
    const lo = Math.floor(r);
    const l = Math.min(s, lo + (u() < r - lo ? 1 : 0));
    return l === 0 ? 0 : Math.fround(Math.sign(val) * l * q);
  });
}

function scatter(d: number, idx: number[], vals: number[]): number[] {
  const out = new Array<number>(d).fill(0);
  idx.forEach((i, j) => (out[i] = Math.fround(vals[j]!)));
  return out;
}

type Ref = (x: Float32Array, u: () => number) => number[];

function reference(spec: CompressorSpec): Ref {
  switch (spec.kind) {
    case 'none':
      return (x) => Array.from(x);
    case 'fp16':
      return (x) => Array.from(x, refF16);
    case 'bf16':
      return (x) => Array.from(x, refBf16);
    case 'topk':
      return (x) => {
        const idx = refTopIdx(x, kFor(x.length, spec.ratio));
        return scatter(x.length, idx, idx.map((i) => (spec.values === 'f16' ? refF16(x[i]!) : x[i]!)));
      };
    case 'randomk':
      return (x, u) => {
        const d = x.length;
        const k = kFor(d, spec.ratio);
        const idx = refFloyd(d, k, u);
        return scatter(d, idx, idx.map((i) => {
          const v = spec.scaled ? Math.fround(x[i]! * (d / k)) : x[i]!;
          return spec.values === 'f16' ? refF16(v) : v;
        }));
      };
    case 'threshold':
      return (x) => Array.from(x, (v) => (Math.abs(v) >= spec.tau ? (spec.values === 'f16' ? refF16(v) : v) : 0));
    case 'qsgd':
      return (x, u) => refQsgdValues(Array.from(x), spec.levels, u);
    case 'sign':
      return (x) => {
        const s = x.length ? Math.fround(x.reduce((a, v) => a + Math.abs(v), 0) / x.length) : 0;
        return Array.from(x, (v) => (v < 0 ? -s : s));
      };
    case 'terngrad':
      return (x, u) => {
        const s = Math.max(0, ...Array.from(x, Math.abs));
        return Array.from(x, (v) => (u() < Math.abs(v) / s ? (v < 0 ? -s : s) : 0));
      };
    case 'qsgd-topk':
      return (x, u) => {
        const idx = refTopIdx(x, kFor(x.length, spec.ratio));
        return scatter(x.length, idx, refQsgdValues(idx.map((i) => x[i]!), spec.levels, u));
      };
    case 'sign-topk':
      return (x) => {
        const idx = refTopIdx(x, kFor(x.length, spec.ratio));
        const s = idx.length ? Math.fround(idx.reduce((a, i) => a + Math.abs(x[i]!), 0) / idx.length) : 0;
        return scatter(x.length, idx, idx.map((i) => (x[i]! < 0 ? -s : s)));
      };
  }
}

const SPECS: CompressorSpec[] = [
  { kind: 'none' },
  { kind: 'fp16' },
  { kind: 'bf16' },
  { kind: 'sign' },
  { kind: 'terngrad' },
  ...[0.01, 0.1, 0.3, 0.5, 0.77, 1].flatMap((ratio): CompressorSpec[] => [
    { kind: 'topk', ratio },
    { kind: 'topk', ratio, values: 'f16' },
    { kind: 'randomk', ratio },
    { kind: 'randomk', ratio, scaled: true, values: 'f16' },
    { kind: 'randomk', ratio, scaled: true },
    { kind: 'qsgd-topk', ratio, levels: 3 },
    { kind: 'sign-topk', ratio },
  ]),
  { kind: 'qsgd-topk', ratio: 0.2, levels: 1000 },
  { kind: 'threshold', tau: 0 },
  { kind: 'threshold', tau: 0.7 },
  { kind: 'threshold', tau: 1.5, values: 'f16' },
  // Levels covering every decode path: fields of 2, 4 and 8 bits (byte-aligned, table), 3 and
  // 9 bits (bit buffer, table), 24 bits (bit buffer, computed).
  { kind: 'qsgd', levels: 1 },
  { kind: 'qsgd', levels: 2 },
  { kind: 'qsgd', levels: 100 },
  { kind: 'qsgd', levels: 4 },
  { kind: 'qsgd', levels: 7 },
  { kind: 'qsgd', levels: 255 },
  { kind: 'qsgd', levels: 2 ** 23 - 1 },
];

/** Vectors with ties, signed zeros and a wide range of magnitudes. */
function testVector(d: number, rand: () => number): Float32Array {
  const x = normals(d, rand);
  for (let i = 0; i < d; i++) {
    const r = rand();
    if (r < 0.1) x[i] = 0;
    else if (r < 0.15) x[i] = -0;
    else if (r < 0.3) x[i] = Math.round(x[i]!); // ties
    else if (r < 0.35) x[i] = x[i]! * 1e-6;
  }
  return x;
}

function same(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(got[i] === want[i] || (Number.isNaN(got[i]!) && Number.isNaN(want[i]!)))) {
      expect.fail(`${what}: element ${i} is ${got[i]}, the definition gives ${want[i]}`);
    }
  }
}

/** decode(encode(x)) and decodeAdd against the reference; also from an unaligned payload copy. */
function checkRoundTrip(spec: CompressorSpec, c: Compressor, x: Float32Array, seed: number): Uint8Array {
  const what = `${c.name} d=${x.length}`;
  const p = c.encode(x, mulberry32(seed));
  const want = reference(spec)(x, mulberry32(seed));
  const out = new Float32Array(x.length).fill(7);
  c.decode(p, out);
  same(out, want, what);
  // The same bytes at an odd offset (ws slices, per-tensor concatenation) decode identically.
  const shifted = new Uint8Array(p.byteLength + 1);
  shifted.set(p, 1);
  const acc = Float32Array.from(x, (_, i) => (i % 3) - 1);
  const base = Float32Array.from(acc);
  c.decodeAdd(shifted.subarray(1), acc, -0.5);
  same(acc, Array.from(base, (b, i) => Math.fround(b + -0.5 * want[i]!)), `${what} decodeAdd`);
  return p;
}

describe('round trips: decode(encode(x)) is the definition, exactly', () => {
  it('every compressor, every length 0..64', () => {
    const rand = mulberry32(4);
    for (const spec of SPECS) {
      const c = createCompressor(spec);
      for (let d = 0; d <= 64; d++) checkRoundTrip(spec, c, testVector(d, rand), d * 7919 + 1);
    }
  });

  it('every compressor, random large vectors', () => {
    const rand = mulberry32(5);
    for (const spec of SPECS) {
      if (spec.kind === 'qsgd' && spec.levels > 255) continue;
      const c = createCompressor(spec);
      for (const d of [4099, 30_011 + Math.floor(rand() * 20_000)]) checkRoundTrip(spec, c, testVector(d, rand), d);
    }
  });

  it('the per-tensor wrapper is the concatenation of its segments', () => {
    const rand = mulberry32(6);
    for (const spec of [{ kind: 'qsgd-topk', ratio: 0.1, levels: 4 }, { kind: 'sign' }, { kind: 'fp16' }] as CompressorSpec[]) {
      const sizes = [0, 1, 17, 300, 5, 1000];
      const segments = sizes.map((size, i) => ({ offset: sizes.slice(0, i).reduce((a, b) => a + b, 0), size }));
      const d = sizes.reduce((a, b) => a + b, 0);
      const x = testVector(d, rand);
      const c = createCompressor({ ...spec, perTensor: true }, segments);
      const out = new Float32Array(d);
      c.decode(c.encode(x, mulberry32(9)), out);
      const u = mulberry32(9); // segments draw from the one stream in order
      const want = segments.flatMap((s) => reference(spec)(x.subarray(s.offset, s.offset + s.size), u));
      same(out, want, c.name);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Sizes.

describe('bits per element match the formulas on 1M-element vectors', () => {
  const d = 1_000_000;
  const x = normals(d, mulberry32(7));
  const bpe = (c: Compressor) => (8 * c.encode(x, mulberry32(8)).byteLength) / d;
  const within1pct = (got: number, formula: number) => expect(Math.abs(got - formula) / formula).toBeLessThan(0.01);

  it('dense and quantized formats: exact', () => {
    expect(bpe(createCompressor({ kind: 'none' }))).toBe(identityBitsPerElement(d));
    expect(bpe(createCompressor({ kind: 'fp16' }))).toBe(cast16BitsPerElement(d));
    expect(bpe(createCompressor({ kind: 'bf16' }))).toBe(cast16BitsPerElement(d));
    expect(bpe(createCompressor({ kind: 'sign' }))).toBe(signBitsPerElement(d));
    expect(bpe(createCompressor({ kind: 'terngrad' }))).toBe(terngradBitsPerElement(d));
    for (const s of [1, 2, 4, 15, 16, 255]) expect(bpe(createCompressor({ kind: 'qsgd', levels: s }))).toBe(qsgdBitsPerElement(d, s));
    // Sanity of the formulas themselves: about 32, 16, 1, 2 and ceil(log2(s + 1)) + 1 bits.
    expect(identityBitsPerElement(d)).toBeCloseTo(32, 3);
    expect(signBitsPerElement(d)).toBeCloseTo(1, 3);
    expect(terngradBitsPerElement(d)).toBeCloseTo(2, 3);
    expect(qsgdBitsPerElement(d, 4)).toBeCloseTo(4, 3);
    expect(qsgdBitsPerElement(d, 255)).toBeCloseTo(9, 3);
  });

  it('sparse formats at k = 1%: within 1% of the random-support formula', () => {
    within1pct(bpe(createCompressor({ kind: 'topk', ratio: 0.01 })), topkBitsPerElement(d, 0.01));
    within1pct(bpe(createCompressor({ kind: 'topk', ratio: 0.01, values: 'f16' })), topkBitsPerElement(d, 0.01, 'f16'));
    within1pct(bpe(createCompressor({ kind: 'randomk', ratio: 0.01 })), randomkBitsPerElement(d, 0.01));
    within1pct(bpe(createCompressor({ kind: 'qsgd-topk', ratio: 0.01, levels: 4 })), qsgdTopkBitsPerElement(d, 10_000, 4));
    within1pct(bpe(createCompressor({ kind: 'sign-topk', ratio: 0.01 })), signTopkBitsPerElement(d, 10_000));
    // |N(0,1)| >= 2.5758 has probability 1%; the formula takes the k actually kept.
    const c = createCompressor({ kind: 'threshold', tau: 2.5758 });
    const p = c.encode(x, mulberry32(1));
    const k = new DataView(p.buffer).getUint32(6, true);
    expect(Math.abs(k - 10_000)).toBeLessThan(500);
    within1pct((8 * p.byteLength) / d, thresholdBitsPerElement(d, k));
    // At 1%, gaps average 100: ~28% need a second varint byte, so ~1.28 bytes per index: 42.2 bits per kept value.
    expect(topkBitsPerElement(d, 0.01)).toBeGreaterThan(0.42);
    expect(topkBitsPerElement(d, 0.01)).toBeLessThan(0.43);
  });
});

// ---------------------------------------------------------------------------------------------
// Headers and corrupt payloads.

describe('payload headers and corrupt payloads', () => {
  const x = normals(100, mulberry32(9));
  const all = SPECS.filter((_, i) => i % 3 === 0).map((s) => createCompressor(s));

  it('every payload starts with its format byte and d as u32', () => {
    const FORMAT: Record<CompressorSpec['kind'], number> = {
      none: 0x01,
      fp16: 0x02,
      bf16: 0x03,
      topk: 0x10, // top-k, random-k and threshold share the sparse format
      randomk: 0x10,
      threshold: 0x10,
      qsgd: 0x20,
      sign: 0x21,
      terngrad: 0x22,
      'qsgd-topk': 0x30,
      'sign-topk': 0x31,
    };
    for (const spec of SPECS) {
      const p = createCompressor(spec).encode(x, mulberry32(1));
      expect(p[0], spec.kind).toBe(FORMAT[spec.kind]);
      expect(new DataView(p.buffer).getUint32(1, true)).toBe(100);
    }
  });

  it('decoding rejects another format, another length, truncation and trailing bytes', () => {
    for (const c of all) {
      const p = c.encode(x, mulberry32(1));
      const other = all.find((o) => o.encode(x, mulberry32(1))[0] !== p[0])!;
      expect(() => c.decode(other.encode(x, mulberry32(1)), new Float32Array(100)), c.name).toThrow(/format/);
      expect(() => c.decode(p, new Float32Array(99)), c.name).toThrow(/100 elements but the output has 99/);
      expect(() => c.decode(p.subarray(0, p.byteLength - 1), new Float32Array(100)), c.name).toThrow();
      const longer = new Uint8Array(p.byteLength + 1);
      longer.set(p);
      expect(() => c.decode(longer, new Float32Array(100)), c.name).toThrow(/corrupt/);
      expect(() => c.decode(new Uint8Array(2), new Float32Array(100)), c.name).toThrow(/shorter than/);
    }
  });

  it('a sparse payload with an index beyond d or k > d is rejected, not silently dropped', () => {
    const c = createCompressor({ kind: 'topk', ratio: 0.1 });
    const p = c.encode(x, mulberry32(1));
    const big = new Uint8Array(p);
    new DataView(big.buffer).setUint32(6, 1000, true);
    expect(() => c.decode(big, new Float32Array(100))).toThrow(/k = 1000 > d = 100/);
    const u32 = encodeSparse(100, 1, Uint32Array.from([99]), Float32Array.from([1]), 'f32');
    expect(u32[5]! & 1).toBe(1); // 99 fits one varint byte
    u32[u32.byteLength - 1] = 100; // gap 100 -> index 100
    expect(() => c.decode(u32, new Float32Array(100))).toThrow(/index 100/);
  });
});
