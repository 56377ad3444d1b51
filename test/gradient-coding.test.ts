// Gradient coding (Tandon et al. 2017) against design invariant 5: for EVERY set of n-s surviving
// workers the decoded gradient equals the full gradient sum_j g_j to float32 rounding. Also: the
// coefficient supports, refusal beyond s stragglers, the per-set decoder cache, determinism,
// parameter validation, and the small linear-algebra kernels the decoder rests on.
import { describe, expect, it } from 'vitest';
import {
  combine,
  createGradientCode,
  decodeGradient,
  encode,
  firstResponders,
  GradientCodingError,
  leastSquares,
  RESIDUAL_TOL,
  solveSquare,
  type GradientCode,
} from '../src/coding/index.ts';
import { Rng } from '../src/util/rng.ts';

const SIZES: [number, number][] = [
  [4, 1],
  [6, 2],
  [5, 2],
  [8, 3],
  [12, 3],
];
const D = 50;

/** All k-subsets of 0..n-1 in lexicographic order. */
function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const F = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    out.push([...F]);
    let i = k - 1;
    while (i >= 0 && F[i] === n - k + i) i--;
    if (i < 0) return out;
    F[i]!++;
    for (let j = i + 1; j < k; j++) F[j] = F[j - 1]! + 1;
  }
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** n random float32 partition gradients of length d, with their exact (float64) sum. */
function partitionGradients(n: number, d: number, seed: number): { g: Float32Array[]; full: Float64Array } {
  const rng = new Rng(seed, 'test-gradients', n);
  const g = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal() * (1 + rng.next())));
  const full = new Float64Array(d);
  for (const v of g) for (let e = 0; e < d; e++) full[e]! += v[e]!;
  return { g, full };
}

/** max_e |x_e - full_e| / max_e |full_e| */
function relError(x: Float32Array, full: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let e = 0; e < full.length; e++) {
    err = Math.max(err, Math.abs(x[e]! - full[e]!));
    scale = Math.max(scale, Math.abs(full[e]!));
  }
  return err / scale;
}

function schemes(n: number, s: number): { label: string; code: GradientCode }[] {
  const out = [{ label: 'cyclic', code: createGradientCode('cyclic', n, s, 1) }];
  if (n % (s + 1) === 0) out.push({ label: 'fractional', code: createGradientCode('fractional', n, s, 1) });
  return out;
}

describe('every surviving set decodes to the full gradient (float32, relative 1e-5)', () => {
  for (const [n, s] of SIZES) {
    for (const { label, code } of schemes(n, s)) {
      it(`${label} n=${n} s=${s}: all C(${n},${n - s}) = ${binomial(n, n - s)} sets`, () => {
        const { g, full } = partitionGradients(n, D, 100 * n + s);
        const coded = Array.from({ length: n }, (_, i) => encode(code, i, g));
        const sets = combinations(n, n - s);
        expect(sets.length).toBe(binomial(n, n - s));
        const shuffle = new Rng(5, 'order', n, s);
        let worst = 0;
        for (const F of sets) {
          // Responders arrive in any order: decode in a shuffled order.
          const order = shuffle.shuffle([...F]);
          const decoded = decodeGradient(
            code,
            order,
            order.map((i) => coded[i]!),
          );
          const err = relError(decoded, full);
          worst = Math.max(worst, err);
          if (!(err <= 1e-5)) throw new Error(`survivors [${F.join(', ')}]: relative error ${err}`);
          const dec = code.decoding(F);
          expect(dec.residual).toBeLessThanOrEqual(RESIDUAL_TOL);
        }
        expect(worst).toBeLessThanOrEqual(1e-5);
        // Conditioning: the whole sweep was checked at construction for these sizes.
        expect(code.maxDecodeGain).toBeLessThan(label === 'fractional' ? 1 + 1e-12 : 50);
      });
    }
  }

  it('the check is not vacuous: swapping two coded vectors breaks the decoded gradient', () => {
    const code = createGradientCode('cyclic', 8, 3, 1);
    const { g, full } = partitionGradients(8, D, 3);
    const coded = Array.from({ length: 8 }, (_, i) => encode(code, i, g));
    const F = [0, 2, 3, 5, 7];
    expect(relError(decodeGradient(code, F, F.map((i) => coded[i]!)), full)).toBeLessThan(1e-5);
    const swapped = F.map((i) => coded[i]!);
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(relError(decodeGradient(code, F, swapped), full)).toBeGreaterThan(1e-2);
  });

  it('more than n-s responders (everyone) also decodes exactly', () => {
    for (const [n, s] of SIZES) {
      for (const { code } of schemes(n, s)) {
        const { g, full } = partitionGradients(n, D, 7);
        const all = Array.from({ length: n }, (_, i) => i);
        const coded = all.map((i) => encode(code, i, g));
        expect(relError(decodeGradient(code, all, coded), full)).toBeLessThan(1e-5);
        const oneExtra = all.filter((i) => i !== 2);
        expect(relError(decodeGradient(code, oneExtra, oneExtra.map((i) => coded[i]!)), full)).toBeLessThan(1e-5);
      }
    }
  });

  it("the paper's random construction is exact in float64 and its float32 error matches its reported gain", () => {
    const n = 8;
    const s = 3;
    const code = createGradientCode('cyclic', n, s, 11, { construction: 'random' });
    expect(code.construction).toBe('random');
    const { g, full } = partitionGradients(n, D, 9);
    const coded = Array.from({ length: n }, (_, i) => encode(code, i, g));
    for (const F of combinations(n, n - s)) {
      const dec = code.decoding(F);
      expect(dec.residual).toBeLessThanOrEqual(RESIDUAL_TOL);
      // float32 rounding of the coded vectors (2^-24 relative), amplified by at most ~gain x n.
      const err = relError(combine(dec.a, F.map((i) => coded[i]!)), full);
      expect(err).toBeLessThanOrEqual(Math.max(1e-6, dec.gain * n * 2 ** -24 * 4));
    }
  });

  it('dft construction: the worst-case decode gain over all surviving sets stays small at these sizes', () => {
    for (const [n, s] of [
      [12, 3],
      [12, 4],
      [15, 4],
    ] as [number, number][]) {
      const dft = createGradientCode('cyclic', n, s, 0);
      expect(dft.construction).toBe('dft');
      expect(Number.isFinite(dft.maxDecodeGain)).toBe(true);
      expect(dft.maxDecodeGain).toBeLessThan(100);
    }
  });
});

describe('numerical limits are reported, not hidden', () => {
  it('large n and s: an ill-conditioned surviving set is refused with an explanation', () => {
    const code = createGradientCode('cyclic', 64, 8, 0);
    expect(Number.isNaN(code.maxDecodeGain)).toBe(true); // C(64, 8) sets: too many to check up front
    const F = Array.from({ length: 56 }, (_, k) => k + 8); // workers 0..7 straggle
    expect(() => code.decoding(F)).toThrow(/not \(numerically\) in the span .* prefer fractional repetition/);
    // while a small s at the same n decodes, with a modest gain
    const ok = createGradientCode('cyclic', 64, 2, 0).decoding(Array.from({ length: 62 }, (_, k) => k + 2));
    expect(ok.gain).toBeLessThan(100);
  });
});

describe('partition assignment and coefficient supports', () => {
  for (const [n, s] of SIZES) {
    for (const { label, code } of schemes(n, s)) {
      it(`${label} n=${n} s=${s}: row i of B is nonzero exactly on the s+1 partitions worker i holds`, () => {
        const holders = new Array<number>(n).fill(0);
        for (let i = 0; i < n; i++) {
          const parts = code.partitionsOf(i);
          expect(parts).toHaveLength(s + 1);
          expect([...parts].sort((x, y) => x - y)).toEqual(parts); // ascending
          expect(new Set(parts).size).toBe(s + 1);
          const row = code.coefficients(i);
          expect(row).toHaveLength(n);
          const support = [...row.keys()].filter((j) => row[j] !== 0);
          expect(support).toEqual(parts);
          for (const j of parts) holders[j]!++;
          if (label === 'cyclic') {
            expect(parts).toEqual(Array.from({ length: s + 1 }, (_, t) => (i + t) % n).sort((x, y) => x - y));
          } else {
            const start = Math.floor(i / (s + 1)) * (s + 1);
            expect(parts).toEqual(Array.from({ length: s + 1 }, (_, t) => start + t));
            for (const j of parts) expect(row[j]).toBe(1);
          }
        }
        // Every partition is replicated on exactly s+1 workers.
        expect(holders).toEqual(new Array<number>(n).fill(s + 1));
      });
    }
  }

  it('coefficients() returns a copy; encode reads only the partitions a worker holds', () => {
    const code = createGradientCode('cyclic', 6, 2, 0);
    const row = code.coefficients(1);
    row[1] = 1234;
    expect(code.coefficients(1)[1]).toBe(1);
    const { g } = partitionGradients(6, 4, 1);
    const sparse: (Float32Array | undefined)[] = new Array(6);
    for (const j of code.partitionsOf(4)) sparse[j] = g[j];
    expect(encode(code, 4, sparse)).toEqual(encode(code, 4, g));
    expect(encode(code, 4, (j) => g[j]!)).toEqual(encode(code, 4, g));
    expect(() => encode(code, 3, sparse)).toThrow(/partition \d+, which was not given/);
  });
});

describe('refusal beyond s stragglers', () => {
  for (const [n, s] of SIZES) {
    for (const { label, code } of schemes(n, s)) {
      it(`${label} n=${n} s=${s}: s+1 stragglers cannot be decoded`, () => {
        const responders = Array.from({ length: n - s - 1 }, (_, k) => k);
        const msg = `cannot decode: only ${n - s - 1} of ${n} workers responded, the code tolerates ${s} stragglers`;
        expect(() => code.decoder(responders)).toThrow(msg);
        expect(() => code.decoding(responders)).toThrow(GradientCodingError);
        const { g } = partitionGradients(n, 3, 1);
        expect(() => decodeGradient(code, responders, responders.map((i) => encode(code, i, g)))).toThrow(msg);
        const arrival = Array.from({ length: n }, (_, i) => (i < n - s - 1 ? i : Infinity));
        expect(() => firstResponders(code, arrival)).toThrow(msg);
      });
    }
  }

  it('rejects duplicate and out-of-range responders', () => {
    const code = createGradientCode('cyclic', 5, 2, 0);
    expect(() => code.decoder([0, 1, 1])).toThrow(/listed twice/);
    expect(() => code.decoder([0, 1, 5])).toThrow(/worker must be an integer in \[0, 4\], got 5/);
  });
});

describe('decoder cache', () => {
  it('one solve per responder set; the same set in any order gives the same cached Decoding', () => {
    const code = createGradientCode('cyclic', 12, 3, 4);
    const before = code.solves;
    const d1 = code.decoding([0, 3, 4, 5, 6, 7, 9, 10, 11]);
    const d2 = code.decoding([11, 10, 9, 7, 6, 5, 4, 3, 0]);
    const d3 = code.decoding([5, 0, 11, 3, 9, 4, 10, 7, 6]);
    expect(d2).toBe(d1);
    expect(d3).toBe(d1);
    expect(d1.responders).toEqual([0, 3, 4, 5, 6, 7, 9, 10, 11]);
    expect(code.solves).toBe(before + 1);
    code.decoding([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(code.solves).toBe(before + 2);
  });

  it('decoder(order) is aligned with the given order: reordering reorders the identical values', () => {
    const code = createGradientCode('cyclic', 8, 3, 4);
    const order1 = [7, 1, 4, 2, 6];
    const order2 = [2, 4, 6, 7, 1];
    const a1 = code.decoder(order1);
    const a2 = code.decoder(order2);
    expect(a1).not.toBe(a2);
    for (const w of order1) expect(a1[order1.indexOf(w)]).toBe(a2[order2.indexOf(w)]);
    // a fresh array each time: mutating it does not touch the cache
    a1.fill(0);
    expect(code.decoder(order1)).toEqual(code.decoder([7, 1, 4, 2, 6]));
    expect(code.decoder(order1)[0]).not.toBe(0);
  });

  it('fractional decoding uses one responder per group with coefficient exactly 1', () => {
    const code = createGradientCode('fractional', 6, 2, 0);
    const a = code.decoder([5, 1, 0, 4]); // groups {0,1,2}, {3,4,5}: lowest responders are 0 and 4
    expect(Array.from(a)).toEqual([0, 0, 1, 1]);
    expect(code.decoding([0, 1, 4, 5]).residual).toBe(0);
  });
});

describe('determinism and validation', () => {
  const matrix = (c: GradientCode): number[][] => Array.from({ length: c.n }, (_, i) => Array.from(c.coefficients(i)));

  it('same seed gives the same B; the random construction depends on the seed, dft does not', () => {
    for (const [n, s] of SIZES) {
      expect(matrix(createGradientCode('cyclic', n, s, 42))).toEqual(matrix(createGradientCode('cyclic', n, s, 42)));
      expect(matrix(createGradientCode('cyclic', n, s, 42))).toEqual(matrix(createGradientCode('cyclic', n, s, 43)));
      const r1 = matrix(createGradientCode('cyclic', n, s, 42, { construction: 'random' }));
      expect(matrix(createGradientCode('cyclic', n, s, 42, { construction: 'random' }))).toEqual(r1);
      expect(matrix(createGradientCode('cyclic', n, s, 43, { construction: 'random' }))).not.toEqual(r1);
    }
  });

  it('the same arrival pattern picks the same first n-s responders (ties by worker id)', () => {
    const code = createGradientCode('cyclic', 6, 2, 0);
    expect(firstResponders(code, [3, 1, 2, 1, 9, 2])).toEqual([1, 2, 3, 5]);
    expect(firstResponders(code, [0, 0, 0, 0, 0, 0])).toEqual([0, 1, 2, 3]);
  });

  it('rejects invalid parameters with clear errors', () => {
    expect(() => createGradientCode('cyclic', 4, 4, 0)).toThrow('s (stragglers tolerated) must be < n (workers), got s = 4, n = 4');
    expect(() => createGradientCode('cyclic', 4, 5, 0)).toThrow(/must be < n/);
    expect(() => createGradientCode('fractional', 5, 2, 0)).toThrow(/fractional repetition needs s\+1 to divide n, got n = 5, s = 2/);
    expect(() => createGradientCode('cyclic', 0, 0, 0)).toThrow(/n \(workers\) must be an integer >= 1, got 0/);
    expect(() => createGradientCode('cyclic', 4.5, 1, 0)).toThrow(/must be an integer/);
    expect(() => createGradientCode('cyclic', 4, -1, 0)).toThrow(/s \(stragglers tolerated\) must be an integer >= 0/);
    expect(() => createGradientCode('bogus' as 'cyclic', 4, 1, 0)).toThrow(/unknown kind 'bogus'/);
    expect(() => createGradientCode('cyclic', 4, 1, 0, { construction: 'x' as 'dft' })).toThrow(/unknown cyclic construction/);
  });

  it('s = 0 is plain data parallelism: B = I and everybody must respond', () => {
    for (const kind of ['cyclic', 'fractional'] as const) {
      const code = createGradientCode(kind, 3, 0, 0);
      expect(matrix(code)).toEqual([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      expect(Array.from(code.decoder([2, 0, 1]))).toEqual([1, 1, 1]);
      expect(() => code.decoder([0, 1])).toThrow('cannot decode: only 2 of 3 workers responded, the code tolerates 0 stragglers');
    }
  });
});

describe('linear algebra', () => {
  it('solveSquare solves and reports singular systems', () => {
    const x = solveSquare(Float64Array.from([0, 2, 1, 1]), Float64Array.from([4, 3]), 2)!;
    expect(Array.from(x)).toEqual([1, 2]);
    expect(solveSquare(Float64Array.from([1, 2, 2, 4]), Float64Array.from([1, 1]), 2)).toBeNull();
  });

  it('leastSquares: exact, rank deficient and inconsistent systems', () => {
    // 3x2 consistent: x = (1, -1)
    const r = leastSquares(Float64Array.from([1, 0, 0, 1, 1, 1]), Float64Array.from([1, -1, 0]), 3, 2);
    expect(r.rank).toBe(2);
    expect(r.x[0]).toBeCloseTo(1, 14);
    expect(r.x[1]).toBeCloseTo(-1, 14);
    expect(r.residual).toBeLessThan(1e-14);
    // duplicated column: rank 1, a basic solution that still fits
    const rd = leastSquares(Float64Array.from([1, 1, 2, 2]), Float64Array.from([3, 6]), 2, 2);
    expect(rd.rank).toBe(1);
    expect(rd.residual).toBeLessThan(1e-12);
    expect(rd.x[0]! * rd.x[1]!).toBe(0);
    // inconsistent: x = mean, residual 1
    const ri = leastSquares(Float64Array.from([1, 1]), Float64Array.from([0, 2]), 2, 1);
    expect(ri.x[0]).toBeCloseTo(1, 14);
    expect(ri.residual).toBeCloseTo(1, 14);
  });
});
