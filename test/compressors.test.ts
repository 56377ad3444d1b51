// Compressors against their definitions: hand-derived values on small vectors (exact where the
// operator is deterministic, with a scripted `uniform` where it is stochastic), Monte Carlo
// checks of unbiasedness and of QSGD's variance bound, top-k against a reference sort, the
// per-tensor wrapper and the spec factory.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createCompressor,
  PerTensor,
  Qsgd,
  QsgdTopK,
  RandomK,
  ScaledSign,
  SignTopK,
  TernGrad,
  Threshold,
  TopK,
  TopKSelector,
  countForRatio,
  type Compressor,
  type CompressorSpec,
} from '../comm/compress/index.ts';
import { mulberry32, normals, roundUpF32 } from './helpers/prng.ts';



/** A uniform callback that replays `values` and fails the test if asked for more. */
function scripted(values: number[]): { uniform: () => number; used: () => number } {
  let i = 0;
  return {
    uniform: () => {
      if (i >= values.length) throw new Error(`uniform called ${i + 1} times, script has ${values.length}`);
      return values[i++]!;
    },
    used: () => i,
  };
}


const noUniform = () => {
  throw new Error('a deterministic compressor must not draw');
};

function roundTrip(c: Compressor, x: Float32Array, uniform: () => number = noUniform): number[] {
  const before = Float32Array.from(x);
  const p = c.encode(x, uniform);
  expect(Array.from(x)).toEqual(Array.from(before)); // encode must not modify x
  const out = new Float32Array(x.length).fill(123); // decode must overwrite, not add
  c.decode(p, out);
  return Array.from(out);
}

const X = Float32Array.from([0.5, -3, 2, -2, 0, 1, 3, -0.25]);

describe('top-k', () => {
  it('keeps the k largest magnitudes, ties to the lower index', () => {
    // |x| = .5 3 2 2 0 1 3 .25: k = 3 takes both 3s (idx 1, 6) and, of the tied 2s, idx 2.
    expect(roundTrip(new TopK(0.375), X)).toEqual([0, -3, 2, 0, 0, 0, 3, 0]);
    expect(roundTrip(new TopK(0.25), X)).toEqual([0, -3, 0, 0, 0, 0, 3, 0]);
    // k = max(1, ceil(0.01 * 8)) = 1: the tie between idx 1 and 6 goes to idx 1.
    expect(roundTrip(new TopK(0.01), X)).toEqual([0, -3, 0, 0, 0, 0, 0, 0]);
    expect(roundTrip(new TopK(1), X)).toEqual(Array.from(X));
  });

  it('k = max(1, ceil(ratio d)), with products that are integers in exact arithmetic taken as such', () => {
    expect(countForRatio(100, 0.07)).toBe(7); // 0.07 * 100 = 7.000000000000001 in floating point
    expect(countForRatio(8, 0.375)).toBe(3);
    expect(countForRatio(10, 0.31)).toBe(4);
    expect(countForRatio(1000, 1e-6)).toBe(1);
    expect(countForRatio(5, 1)).toBe(5);
    expect(countForRatio(0, 0.5)).toBe(0);
  });

  it('an empty vector gives a valid empty payload', () => {
    const c = new TopK(0.1);
    const p = c.encode(new Float32Array(0), noUniform);
    expect(p.byteLength).toBe(10);
    c.decode(p, new Float32Array(0));
  });

  it('a NaN counts as the largest magnitude (so it is sent, not hidden); infinities beat finite values', () => {
    expect(roundTrip(new TopK(0.25), Float32Array.from([1, NaN, -Infinity, 2, 5, -7, 0, 3]))).toEqual([0, NaN, -Infinity, 0, 0, 0, 0, 0]);
  });

  it('fp16 values: the kept values are rounded to half precision', () => {
    // 1/3 = 1.0101010101|0101...b x 2^-2 rounds down to 1365/4096 in half precision.
    expect(roundTrip(new TopK(0.5, { values: 'f16' }), Float32Array.from([1 / 3, 0.1, -5]))).toEqual([1365 / 4096, 0, -5]);
  });
});

describe('top-k selection vs a reference sort', () => {
  function reference(x: Float32Array, k: number): number[] {
    const key = (v: number) => (Number.isNaN(v) ? Infinity : Math.abs(v));
    const order = Array.from(x.keys()).sort((a, b) => key(x[b]!) - key(x[a]!) || a - b);
    return order.slice(0, k).sort((a, b) => a - b);
  }

  const sel = new TopKSelector();
  function check(x: Float32Array, k: number): void {
    const out = new Uint32Array(k);
    sel.select(x, k, out);
    expect(Array.from(out)).toEqual(reference(x, k));
  }

  it('random vectors, many ties, every k on small lengths', () => {
    const rand = mulberry32(11);
    for (let d = 0; d <= 40; d++) {
      for (const kind of ['normal', 'ties', 'zeros']) {
        const x = new Float32Array(d);
        for (let i = 0; i < d; i++) {
          // 'ties': few distinct magnitudes, both signs, +0 and -0; 'zeros': mostly signed zeros.
          if (kind === 'normal') x[i] = normals(1, rand)[0]!;
          else if (kind === 'ties') x[i] = (rand() < 0.5 ? -1 : 1) * Math.floor(rand() * 4);
          else x[i] = rand() < 0.8 ? (rand() < 0.5 ? -0 : 0) : rand();
        }
        for (let k = 0; k <= d; k++) check(x, k);
      }
    }
  });

  it('large vectors: Gaussian, heavy ties, one narrow bin, all equal, infinities', () => {
    const rand = mulberry32(12);
    const d = 100_000;
    const gauss = normals(d, rand);
    const ties = Float32Array.from({ length: d }, () => (rand() < 0.5 ? -1 : 1) * Math.floor(rand() * 10));
    // All in [1, 1 + 2^-10): every key shares its top 11 and most of the next 10 bits.
    const narrow = Float32Array.from({ length: d }, () => 1 + Math.floor(rand() * 64) * 2 ** -16);
    const equal = new Float32Array(d).fill(-2.5);
    const inf = Float32Array.from(gauss, (v, i) => (i % 997 === 0 ? (v < 0 ? -Infinity : Infinity) : v));
    const paths = new Set<string>();
    for (const x of [gauss, ties, narrow, equal, inf]) {
      for (const k of [1, 2, 17, 1000, 33_333, d - 1, d]) {
        check(x, k);
        paths.add(sel.lastPath);
      }
    }
    // Both ways of finding the candidate range ran: the sample (most cases) and the exact
    // histogram (heavy ties defeat the sample's size estimate; k close to d).
    expect([...paths].sort()).toEqual(['exact', 'sampled', 'trivial']);
  });

  it('when the sample does not bracket the threshold, the result is still exact (fallback)', () => {
    // A zero-width bracket misses the k-th key about half the time; every result must still be
    // the reference one, and both outcomes must occur.
    const tight = new TopKSelector({ sampleSds: 0 });
    const paths = new Set<string>();
    const rand = mulberry32(14);
    for (let t = 0; t < 12; t++) {
      const x = normals(70_000 + t * 1000, rand);
      for (const k of [7, 700, 7001]) {
        const out = new Uint32Array(k);
        tight.select(x, k, out);
        expect(Array.from(out)).toEqual(reference(x, k));
        paths.add(tight.lastPath);
      }
    }
    expect([...paths].sort()).toEqual(['exact', 'sampled']);
  });

  it('the sampled path on a vector whose largest values sit in one small block', () => {
    const d = 300_000;
    const x = normals(d, mulberry32(13));
    for (let i = 123_456; i < 123_456 + 150; i++) x[i] = 100 + (i % 7);
    for (const k of [1, 100, 150, 151, 3000]) {
      check(x, k);
      expect(sel.lastPath).toBe('sampled');
    }
  });

  it('never sorts: no sort of any array kind is called while selecting', () => {
    const spies = [
      vi.spyOn(Array.prototype, 'sort'),
      vi.spyOn(Float32Array.prototype, 'sort'),
      vi.spyOn(Uint32Array.prototype, 'sort'),
      vi.spyOn(Float64Array.prototype, 'sort'),
    ];
    const x = normals(50_000, mulberry32(3));
    const out = new Uint32Array(500);
    new TopKSelector().select(x, 500, out);
    new TopK(0.01).encode(x, noUniform);
    new QsgdTopK(0.01, 4).encode(x, mulberry32(1));
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });
});

describe('random-k', () => {
  const x = Float32Array.from([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);

  it("Floyd's sampling with the caller's uniforms: exactly k draws", () => {
    // d = 8, k = 2: j = 6 draws t = floor(u * 7), j = 7 draws t = floor(u * 8).
    let s = scripted([0.5, 0.5]); // t = 3, then t = 4
    expect(roundTrip(new RandomK(0.25), x, s.uniform)).toEqual([0, 0, 0, 2, 2.5, 0, 0, 0]);
    expect(s.used()).toBe(2);
    s = scripted([0.5, 0.4]); // t = 3, then t = 3 again: taken, so j = 7 is
    expect(roundTrip(new RandomK(0.25), x, s.uniform)).toEqual([0, 0, 0, 2, 0, 0, 0, 4]);
    s = scripted([0, 0.99]); // t = 0, then t = 7
    expect(roundTrip(new RandomK(0.25), x, s.uniform)).toEqual([0.5, 0, 0, 0, 0, 0, 0, 4]);
  });

  it('scaled multiplies the kept values by d / k', () => {
    const s = scripted([0.5, 0.5]);
    expect(roundTrip(new RandomK(0.25, { scaled: true }), x, s.uniform)).toEqual([0, 0, 0, 8, 10, 0, 0, 0]);
    // d / k = 10 / 3 is not exact: each kept value is fround(x_i * (10 / 3)).
    const y = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    const out = roundTrip(new RandomK(0.3, { scaled: true }), y, scripted([0, 0, 0]).uniform);
    // j = 7: t = 0; j = 8: t = 0 taken -> 8; j = 9: t = 0 taken -> 9.
    expect(out).toEqual([Math.fround(10 / 3), 0, 0, 0, 0, 0, 0, 0, Math.fround(9 * (10 / 3)), Math.fround(10 * (10 / 3))]);
  });

  it('the support is uniform: every index kept with frequency k / d', () => {
    const d = 20;
    const k = 5;
    const n = 20_000;
    const rand = mulberry32(5);
    const c = new RandomK(k / d);
    const ones = new Float32Array(d).fill(1);
    const count = new Float64Array(d);
    const out = new Float32Array(d);
    for (let t = 0; t < n; t++) {
      c.decode(c.encode(ones, rand), out);
      let kept = 0;
      for (let i = 0; i < d; i++) {
        count[i]! += out[i]!;
        kept += out[i]!;
      }
      expect(kept).toBe(k);
    }
    // Each count is Binomial(n, 1/4): sd = sqrt(n p (1 - p)) = 61; allow 5 sd.
    const sd = Math.sqrt(n * 0.25 * 0.75);
    for (let i = 0; i < d; i++) expect(Math.abs(count[i]! - n / 4)).toBeLessThan(5 * sd);
  });
});

describe('threshold', () => {
  it('keeps |x_i| >= tau', () => {
    expect(roundTrip(new Threshold(2), X)).toEqual([0, -3, 2, -2, 0, 0, 3, 0]);
    expect(roundTrip(new Threshold(0), X)).toEqual(Array.from(X)); // keeps the zero too
    expect(roundTrip(new Threshold(0.5), X)).toEqual([0.5, -3, 2, -2, 0, 1, 3, 0]);
    const c = new Threshold(10);
    const p = c.encode(X, noUniform);
    expect(p.byteLength).toBe(10); // nothing kept: the header alone
    expect(roundTrip(c, X)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('QSGD', () => {
  it('stochastic rounding of |x_i| / ||x|| * s, scripted uniforms', () => {
    // ||(3, -4, 0, 0)|| = 5, s = 4: q = 1.25, r = (2.4, 3.2, 0, 0).
    // u = 0.3 < 0.4 rounds 2.4 up to 3 (3.75); u = 0.5 >= 0.2 keeps 3 (-3.75).
    const x = Float32Array.from([3, -4, 0, 0]);
    let s = scripted([0.3, 0.5, 0, 0.9]);
    expect(roundTrip(new Qsgd(4), x, s.uniform)).toEqual([3.75, -3.75, 0, 0]);
    expect(s.used()).toBe(4); // one per element, zeros included
    s = scripted([0.5, 0.1, 0.2, 0.2]); // 2.4 -> 2 (2.5), 3.2 -> 4 (-5)
    expect(roundTrip(new Qsgd(4), x, s.uniform)).toEqual([2.5, -5, 0, 0]);
    // s = 1: levels are 0 or 1 with P(1) = |x_i| / ||x||: 0.6 and 0.8.
    s = scripted([0.59, 0.81, 0.5, 0.5]);
    expect(roundTrip(new Qsgd(1), x, s.uniform)).toEqual([5, 0, 0, 0]);
  });

  it('packs (level << 1 | negative) in b + 1 bits, LSB first, after a 13-byte header', () => {
    const p = new Qsgd(4).encode(Float32Array.from([3, -4, 0, 0]), scripted([0.3, 0.5, 0, 0]).uniform);
    // b = ceil(log2 5) = 3, fields of 4 bits: 3<<1|0 = 6, 3<<1|1 = 7, 0, 0.
    expect(p.byteLength).toBe(13 + 2);
    expect(Array.from(p.subarray(13))).toEqual([0x76, 0x00]);
    const dv = new DataView(p.buffer);
    expect(p[0]).toBe(0x20);
    expect(dv.getUint32(1, true)).toBe(4);
    expect(dv.getUint32(5, true)).toBe(4);
    expect(dv.getFloat32(9, true)).toBe(5);
  });

  it('the norm on the wire is the smallest float32 >= the true norm', () => {
    const p = new Qsgd(2).encode(Float32Array.from([1, 1, 1]), mulberry32(1));
    const norm = new DataView(p.buffer).getFloat32(9, true);
    expect(norm).toBeGreaterThanOrEqual(Math.sqrt(3));
    const below = new Float32Array([norm]);
    new Uint32Array(below.buffer)[0]! -= 1;
    expect(below[0]!).toBeLessThan(Math.sqrt(3));
  });

  it('a zero vector decodes to zeros', () => {
    expect(roundTrip(new Qsgd(3), new Float32Array(5), mulberry32(1))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('scaled sign', () => {
  it('(||x||_1 / d) sign(x), sign(0) = +1', () => {
    const x = Float32Array.from([1, -2, 0, -0, 3, -1]);
    const s = Math.fround(7 / 6);
    expect(roundTrip(new ScaledSign(), x)).toEqual([s, -s, s, s, s, -s]);
    const p = new ScaledSign().encode(x, noUniform);
    expect(p.byteLength).toBe(9 + 1);
    expect(p[9]).toBe(0b100010); // negatives at 1 and 5
  });
});

describe('TernGrad', () => {
  it('scale = max|x|, b_i ~ Bernoulli(|x_i| / scale), scripted uniforms', () => {
    // scale 4, P = (0.25, 0.5, 0.125, 1, 1).
    const x = Float32Array.from([1, -2, 0.5, 4, -4]);
    const s = scripted([0.2, 0.6, 0.1, 0.99, 0]);
    expect(roundTrip(new TernGrad(), x, s.uniform)).toEqual([4, 0, 4, 4, -4]);
    expect(s.used()).toBe(5);
    const p = new TernGrad().encode(x, scripted([0.2, 0.6, 0.1, 0.99, 0]).uniform);
    // 2-bit fields 01 00 01 01 | 11 (LSB first).
    expect(Array.from(p.subarray(9))).toEqual([0b01010001, 0b11]);
  });
});

describe('none (identity fp32)', () => {
  it('sends the float32 bytes unchanged after a 5-byte header', () => {
    const c = createCompressor({ kind: 'none' });
    expect(roundTrip(c, X)).toEqual(Array.from(X));
    const p = c.encode(X, noUniform);
    expect(p.byteLength).toBe(5 + 4 * 8);
    expect(new DataView(p.buffer).getFloat32(5 + 4, true)).toBe(-3);
  });
});

describe('fp16 and bf16 casts', () => {
  it('round to nearest even, with the right overflow, subnormal and NaN behaviour', () => {
    const x = Float32Array.from([1, 65504, 65519, 65520, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -0, NaN, -Infinity]);
    expect(roundTrip(createCompressor({ kind: 'fp16' }), x)).toEqual([1, 65504, 65504, Infinity, 2 ** -24, 0, 2 ** -24, 2 ** -14, 1, 1 + 2 ** -9, -0, NaN, -Infinity]);
    const y = Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4028234663852886e38, 1e-40, NaN, -2]);
    // bf16 keeps 7 mantissa bits: 1 + 2^-8 is a tie (down to even), 1 + 3 * 2^-8 rounds up to 1 + 2^-6;
    // the largest float32 is above the bf16 overflow midpoint; 1e-40 is the float32 subnormal
    // 0x000116c2, whose dropped half 0x16c2 rounds down to 0x0001 0000 = 2^-133.
    expect(roundTrip(createCompressor({ kind: 'bf16' }), y)).toEqual([1, 1, 1 + 2 ** -6, Infinity, 2 ** -133, NaN, -2]);
  });
});

describe('Qsparse compositions', () => {
  const x = Float32Array.from([0.5, -3, 2, -2, 0, 1, 4, -0.25]);

  it('QSGD o top-k quantizes the k selected values against their own norm', () => {
    // k = 2 selects -3 (idx 1) and 4 (idx 6), norm 5, s = 4: r = (2.4, 3.2) as in plain QSGD.
    const s = scripted([0.3, 0.5]);
    expect(roundTrip(new QsgdTopK(0.25, 4), x, s.uniform)).toEqual([0, -3.75, 0, 0, 0, 0, 3.75, 0]);
    expect(s.used()).toBe(2);
  });

  it('sign o top-k sends signs with scale ||selected||_1 / k', () => {
    // k = 3: 4 (idx 6), -3 (idx 1), 2 (idx 2, tie with idx 3); scale = 9 / 3.
    expect(roundTrip(new SignTopK(0.375), x)).toEqual([0, -3, 3, 0, 0, 0, 3, 0]);
  });
});

describe('per-tensor wrapper', () => {
  const x = Float32Array.from([0.5, -3, 2, -2, 0, 1, 4, -0.25]);
  const segs = [
    { offset: 0, size: 4 },
    { offset: 4, size: 4 },
  ];

  it('applies the inner compressor to each segment and concatenates the payloads', () => {
    const topk = createCompressor({ kind: 'topk', ratio: 0.25, perTensor: true }, segs);
    expect(topk.name).toBe('perTensor(topk(0.25))');
    expect(roundTrip(topk, x)).toEqual([0, -3, 0, 0, 0, 0, 4, 0]);
    const sign = createCompressor({ kind: 'sign', perTensor: true }, segs);
    // Scales 7.5 / 4 and 5.25 / 4, each from its own segment.
    expect(roundTrip(sign, x)).toEqual([1.875, -1.875, 1.875, -1.875, 1.3125, 1.3125, 1.3125, -1.3125]);
    // 5-byte header + u32 count + 2 lengths, then two 10-byte sign payloads.
    expect(sign.encode(x, noUniform).byteLength).toBe(5 + 4 + 8 + 2 * 10);
    expect(sign.dense).toBe(false);
    expect(createCompressor({ kind: 'fp16', perTensor: true }, segs).dense).toBe(true);
  });

  it('decodeAdd adds scale * decode in place; empty segments and empty vectors work', () => {
    const c = new PerTensor(
      [
        { offset: 0, size: 3 },
        { offset: 3, size: 0 },
        { offset: 3, size: 5 },
      ],
      () => new TopK(0.5),
    );
    const p = c.encode(x, noUniform);
    const out = new Float32Array(8).fill(1);
    c.decodeAdd(p, out, -2);
    // Segment 0 (0.5, -3, 2) keeps k = ceil(1.5) = 2: -3, 2. Segment 1 is empty (k = 0).
    // Segment 2 (-2, 0, 1, 4, -0.25) keeps k = ceil(2.5) = 3: -2, 1, 4. out = 1 - 2 * decoded.
    expect(Array.from(out)).toEqual([1, 7, -3, 5, 1, -1, -7, 1]);
    const empty = new PerTensor([], () => new TopK(0.5));
    empty.decode(empty.encode(new Float32Array(0), noUniform), new Float32Array(0));
  });

  it('rejects segments that do not tile the vector, and vectors of another length', () => {
    expect(() => new PerTensor([{ offset: 1, size: 2 }], () => new TopK(0.5))).toThrow(/starts at 1, expected 0/);
    expect(() => new PerTensor([{ offset: 0, size: 2 }, { offset: 3, size: 1 }], () => new TopK(0.5))).toThrow(/tile/);
    expect(() => createCompressor({ kind: 'topk', ratio: 0.1, perTensor: true })).toThrow(/needs the segments/);
    expect(() => createCompressor({ kind: 'topk', ratio: 0.1, perTensor: true }, segs).encode(new Float32Array(7), noUniform)).toThrow(/7 elements/);
  });
});

describe('createCompressor', () => {
  it('builds every kind with a descriptive name', () => {
    const names = (
      [
        { kind: 'none' },
        { kind: 'fp16' },
        { kind: 'bf16' },
        { kind: 'sign' },
        { kind: 'terngrad' },
        { kind: 'topk', ratio: 0.01 },
        { kind: 'topk', ratio: 0.01, values: 'f16' },
        { kind: 'randomk', ratio: 0.1 },
        { kind: 'randomk', ratio: 0.1, scaled: true },
        { kind: 'threshold', tau: 0.001 },
        { kind: 'qsgd', levels: 4 },
        { kind: 'qsgd-topk', ratio: 0.01, levels: 8 },
        { kind: 'sign-topk', ratio: 0.01 },
      ] as CompressorSpec[]
    ).map((s) => createCompressor(s).name);
    expect(names).toEqual([
      'none',
      'fp16',
      'bf16',
      'sign',
      'terngrad',
      'topk(0.01)',
      'topk(0.01,f16)',
      'randomk(0.1)',
      'randomk(0.1,scaled)',
      'threshold(0.001)',
      'qsgd(s=4)',
      'qsgd(s=8)∘topk(0.01)',
      'sign∘topk(0.01)',
    ]);
    expect(createCompressor({ kind: 'none' }).dense).toBe(true);
    expect(createCompressor({ kind: 'topk', ratio: 0.1 }).dense).toBe(false);
  });

  it('throws a clear error on invalid specs', () => {
    const bad = (s: unknown) => () => createCompressor(s as CompressorSpec);
    expect(bad({ kind: 'topk', ratio: 0 })).toThrow(/ratio must be a number in \(0, 1\], got 0/);
    expect(bad({ kind: 'topk', ratio: 1.5 })).toThrow(/ratio/);
    expect(bad({ kind: 'topk', ratio: '0.1' })).toThrow(/ratio/);
    expect(bad({ kind: 'topk' })).toThrow(/missing 'ratio'/);
    expect(bad({ kind: 'qsgd', levels: 0 })).toThrow(/levels must be an integer/);
    expect(bad({ kind: 'qsgd', levels: 2.5 })).toThrow(/levels/);
    expect(bad({ kind: 'qsgd-topk', ratio: 0.1, levels: -1 })).toThrow(/levels/);
    expect(bad({ kind: 'threshold', tau: -1 })).toThrow(/tau must be/);
    expect(bad({ kind: 'topk', ratio: 0.1, values: 'f8' })).toThrow(/values must be 'f32' or 'f16'/);
    expect(bad({ kind: 'topk', ratoi: 0.1 })).toThrow(/unknown key 'ratoi'/);
    expect(bad({ kind: 'zip' })).toThrow(/kind must be one of none, fp16/);
    expect(bad(null)).toThrow(/must be an object/);
    expect(bad({ kind: 'sign', perTensor: 'yes' })).toThrow(/perTensor must be true or false/);
  });
});

describe('Monte Carlo: unbiasedness and variance', () => {
  // Each test averages N independent compressions. For an element whose single-draw standard
  // deviation is sigma_i, the mean's is sigma_i / sqrt(N); we allow 5 of those (per element, a
  // normal tail of 6e-7) plus float rounding. A biased variant (e.g. deterministic rounding,
  // or an unscaled random-k) is off by a constant fraction of q, hundreds of standard deviations.
  function meanOf(c: Compressor, x: Float32Array, n: number, seed: number): { mean: Float64Array; sqErr: number } {
    const rand = mulberry32(seed);
    const d = x.length;
    const sum = new Float64Array(d);
    const out = new Float32Array(d);
    let sqErr = 0;
    for (let t = 0; t < n; t++) {
      c.decode(c.encode(x, rand), out);
      for (let i = 0; i < d; i++) {
        sum[i]! += out[i]!;
        sqErr += (out[i]! - x[i]!) ** 2;
      }
    }
    return { mean: sum.map((v) => v / n), sqErr: sqErr / n };
  }

  function expectUnbiased(mean: Float64Array, x: Float32Array, sigma: (i: number) => number, n: number): void {
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(mean[i]! - x[i]!)).toBeLessThanOrEqual((5 * sigma(i)) / Math.sqrt(n) + 1e-6 * Math.abs(x[i]!));
    }
  }

  it('QSGD is unbiased', () => {
    const x = normals(16, mulberry32(21));
    const n = 20_000;
    for (const s of [1, 2, 5]) {
      const { mean } = meanOf(new Qsgd(s), x, n, s);
      const norm = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
      const q = roundUpF32(norm) / s;
      // sigma_i = q sqrt(p (1 - p)) with p the fractional part of |x_i| / q.
      expectUnbiased(mean, x, (i) => {
        const r = Math.abs(x[i]!) / q;
        const p = r - Math.floor(r);
        return q * Math.sqrt(p * (1 - p)) + 1e-9;
      }, n);
    }
  });

  it('QSGD variance: E||Q(x) - x||^2 <= min(d / s^2, sqrt(d) / s) ||x||^2, and matches its exact value', () => {
    const cases: [Float32Array, number][] = [
      [Float32Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? -1 : 1)), 1], // near the bound: r = 1/8
      [normals(64, mulberry32(7)), 1],
      [normals(64, mulberry32(8)), 4],
      [normals(1000, mulberry32(9)), 8],
      [normals(9, mulberry32(10)), 2],
    ];
    for (const [x, s] of cases) {
      const d = x.length;
      const n = d > 100 ? 1000 : 5000;
      const { sqErr } = meanOf(new Qsgd(s), x, n, 100 + s);
      const norm2 = x.reduce((a, v) => a + v * v, 0);
      const bound = Math.min(d / (s * s), Math.sqrt(d) / s) * norm2;
      // Exact variance sum_i q^2 p_i (1 - p_i); the Monte Carlo estimate must agree to a few %.
      const q = roundUpF32(Math.sqrt(norm2)) / s;
      let exact = 0;
      for (let i = 0; i < d; i++) {
        const r = Math.abs(x[i]!) / q;
        const p = r - Math.floor(r);
        exact += q * q * p * (1 - p);
      }
      expect(exact).toBeLessThanOrEqual(bound);
      expect(sqErr).toBeLessThanOrEqual(bound);
      expect(Math.abs(sqErr - exact)).toBeLessThan(0.05 * exact);
    }
  });

  it('TernGrad is unbiased', () => {
    const x = normals(16, mulberry32(31));
    const n = 20_000;
    const { mean } = meanOf(new TernGrad(), x, n, 3);
    const scale = Math.max(...Array.from(x, Math.abs));
    expectUnbiased(mean, x, (i) => {
      const p = Math.abs(x[i]!) / scale;
      return scale * Math.sqrt(p * (1 - p)) + 1e-9;
    }, n);
  });

  it('scaled random-k is unbiased (and unscaled is not)', () => {
    const x = normals(10, mulberry32(41));
    const n = 30_000;
    const { mean } = meanOf(new RandomK(0.3, { scaled: true }), x, n, 4);
    // Kept with p = 0.3 as x_i * 10/3: sigma_i = |x_i| (10/3) sqrt(0.3 * 0.7).
    const sigma = (i: number) => (Math.abs(x[i]!) * 10) / 3 * Math.sqrt(0.21);
    expectUnbiased(mean, x, sigma, n);
    const unscaled = meanOf(new RandomK(0.3), x, n, 4).mean;
    for (let i = 0; i < 10; i++) expect(unscaled[i]!).toBeCloseTo(0.3 * x[i]!, 1);
  });
});
