import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../comm/linalg/symmetric-eigen.ts';
import { ParameterError } from '../comm/param-error.ts';
import {
  createEncoding,
  differenceSetLambda,
  EncodedLbfgs,
  EncodedLeastSquares,
  gaussianEncoding,
  harmonicEtfEncoding,
  harmonicFrame,
  HadamardEncoding,
  paleyDifferenceSet,
  paleyEtfEncoding,
  type Encoding,
} from '../src/coding/encoded/index.ts';
import { solveSquare } from '../src/coding/linalg.ts';
import { Rng } from '../src/util/rng.ts';

/** max |(S^T S - I)_ij|. */
function tightFrameError(s: Float64Array, m: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let g = 0;
      for (let r = 0; r < m; r++) g += s[r * n + i]! * s[r * n + j]!;
      worst = Math.max(worst, Math.abs(g - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** Normalised |<f_s, f_t>| for every pair of rows of a complex (re, im) m x n frame. */
function coherences(re: Float64Array, im: Float64Array, m: number, n: number): number[] {
  const out: number[] = [];
  const norm = (t: number): number => {
    let s = 0;
    for (let j = 0; j < n; j++) s += re[t * n + j]! ** 2 + im[t * n + j]! ** 2;
    return Math.sqrt(s);
  };
  for (let s = 0; s < m; s++) {
    for (let t = s + 1; t < m; t++) {
      let a = 0;
      let b = 0;
      for (let j = 0; j < n; j++) {
        // <f_s, f_t> = sum f_s conj(f_t)
        a += re[s * n + j]! * re[t * n + j]! + im[s * n + j]! * im[t * n + j]!;
        b += im[s * n + j]! * re[t * n + j]! - re[s * n + j]! * im[t * n + j]!;
      }
      out.push(Math.hypot(a, b) / (norm(s) * norm(t)));
    }
  }
  return out;
}

const welch = (m: number, n: number): number => Math.sqrt((m - n) / (n * (m - 1)));
const paleyCache = new Map<number, Encoding>();
/** The Paley ETF is deterministic: build each size once per file (a Jacobi eigen-decomposition). */
const paley = (n: number): Encoding => paleyCache.get(n) ?? paleyCache.set(n, paleyEtfEncoding(n)).get(n)!;

describe('encoding matrices', () => {
  it('Paley ETF: S^T S = I, every pairwise coherence equals the Welch bound 1/sqrt(p)', () => {
    for (const n of [3, 9, 51]) {
      const enc = paley(n);
      const p = 2 * n - 1;
      expect(enc.rows).toBe(2 * n);
      const s = enc.dense();
      expect(tightFrameError(s, enc.rows, n)).toBeLessThan(1e-11);
      const c = coherences(s, new Float64Array(s.length), enc.rows, n);
      expect(Math.abs(welch(enc.rows, n) - 1 / Math.sqrt(p))).toBeLessThan(1e-15);
      for (const v of c) expect(Math.abs(v - 1 / Math.sqrt(p))).toBeLessThan(1e-11);
    }
  });

  it('harmonic ETF from difference sets: complex rows equiangular at the Welch bound, real form S^T S = I', () => {
    const sets = [paleyDifferenceSet(3), paleyDifferenceSet(4), paleyDifferenceSet(11), { set: [0, 1, 3, 9], v: 13 }];
    expect(sets[0]).toEqual({ set: [1, 2, 4], v: 7 }); // quadratic residues mod 7, a (7, 3, 1) set
    expect(sets[1]).toEqual({ set: [0, 3, 5, 6], v: 7 }); // their complement, a (7, 4, 2) set
    expect(differenceSetLambda([0, 1, 3, 9], 13)).toBe(1); // the (13, 4, 1) Singer set
    for (const { set, v } of sets) {
      const k = set.length;
      const { re, im } = harmonicFrame(set, v);
      for (const c of coherences(re, im, v, k)) expect(Math.abs(c - welch(v, k))).toBeLessThan(1e-12);
      const enc = harmonicEtfEncoding(k, { set, v });
      expect(enc.rows).toBe(v);
      expect(tightFrameError(enc.dense(), v, k)).toBeLessThan(1e-12);
    }
    expect(() => harmonicEtfEncoding(4, { set: [0, 1, 2, 3], v: 13 })).toThrow(/differenceSet: expected a difference set of 4 distinct residues mod 13/);
  });

  it('subsampled randomized Hadamard: S^T S = I, entries +-1/sqrt(M), fast transform = dense product', () => {
    const enc = new HadamardEncoding(50, 128 / 50, 3);
    expect(enc.rows).toBe(128);
    // beta = M / N with float rounding in the product (256 / 99 * 99 is not exactly 256 for every N).
    for (const n of [3, 7, 99, 100, 127]) expect(new HadamardEncoding(n, 256 / n, 1).rows).toBe(256);
    const s = enc.dense();
    expect(tightFrameError(s, 128, 50)).toBeLessThan(1e-12);
    for (const v of s) expect(Math.abs(Math.abs(v) - 1 / Math.sqrt(128))).toBeLessThan(1e-15);
  });

  it('gaussian: entries N(0, 1/M), same seed same matrix, E[S^T S] = I on average', () => {
    const a = gaussianEncoding(40, 2, 1).dense();
    expect(gaussianEncoding(40, 2, 1).dense()).toEqual(a);
    let s2 = 0;
    for (const v of a) s2 += v * v;
    // sum of squares = trace(S^T S), expected N = 40 (std sqrt(2 N / M) ~ 0.7)
    expect(Math.abs(s2 - 40)).toBeLessThan(4);
  });

  it('sizes an encoding cannot have are refused with the nearest valid ones', () => {
    expect(() => createEncoding({ kind: 'gaussian', beta: 0.5 }, 10, 1)).toThrow(/^beta: expected a redundancy factor beta >= 1, found 0.5$/);
    expect(() => createEncoding({ kind: 'hadamard', beta: 2 }, 50, 1)).toThrow(
      /beta: expected beta \* N a power of two for the hadamard encoding \(N = 50\): e.g. beta = 1.28 \(M = 64\) or 2.56 \(M = 128\), found 2 \(M = 100\)/,
    );
    expect(() => createEncoding({ kind: 'etf' }, 10, 1)).toThrow(/samples: expected a data size N with 2N - 1 a prime = 1 \(mod 4\) for the Paley ETF, e.g. 7, 9, 15, 19, found 10/);
    expect(() => createEncoding({ kind: 'etf', construction: 'harmonic' }, 7, 1)).toThrow(ParameterError);
    expect(() => createEncoding({ kind: 'etf', beta: 3 }, 9, 1)).toThrow(/beta: expected the paley ETF's own redundancy 18\/9 = 2/);
    expect(createEncoding({ kind: 'etf', beta: 2 }, 9, 1)!.rows).toBe(18);
  });
});

/** y = X w_true + noise, X n x p. */
function problem(n: number, p: number, seed: number): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed, 'lsq');
  const x = Float64Array.from({ length: n * p }, () => rng.normal());
  const wTrue = Float64Array.from({ length: p }, () => rng.normal());
  const y = Float64Array.from({ length: n }, (_, r) => {
    let s = 0.5 * rng.normal();
    for (let c = 0; c < p; c++) s += x[r * p + c]! * wTrue[c]!;
    return s;
  });
  return { x, y };
}

function lsqSolution(x: Float64Array, y: Float64Array, n: number, p: number): Float64Array {
  const g = new Float64Array(p * p);
  const b = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) {
      b[i] = b[i]! + x[r * p + i]! * y[r]!;
      for (let j = 0; j < p; j++) g[i * p + j] = g[i * p + j]! + x[r * p + i]! * x[r * p + j]!;
    }
  }
  return solveSquare(g, b, p)!;
}

function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n - 1])];
}

/** epsilon with (1 - eps) I <= S_A^T S_A / eta <= (1 + eps) I, over every k-subset A of the blocks. */
function worstEpsilon(enc: Encoding, workers: number, k: number): number {
  const s = enc.dense();
  const n = enc.cols;
  const lsq = new EncodedLeastSquares(s, new Float64Array(enc.rows), enc.rows, n, workers);
  let eps = 0;
  for (const a of subsets(workers, k)) {
    const g = new Float64Array(n * n);
    for (const b of a) {
      for (let r = lsq.bounds[b]!; r < lsq.bounds[b + 1]!; r++) {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = g[i * n + j]! + (s[r * n + i]! * s[r * n + j]! * workers) / k;
      }
    }
    const ev = symmetricEigen(g, n).values;
    eps = Math.max(eps, Math.abs(ev[0]! - 1), Math.abs(1 - ev[n - 1]!));
  }
  return eps;
}

describe('encoded gradient descent', () => {
  const n = 51;
  const p = 5;
  const workers = 6;
  const { x, y } = problem(n, p, 1);
  const wStar = lsqSolution(x, y, n, p);
  const uncoded = new EncodedLeastSquares(x, y, n, p, workers);
  const fStar = uncoded.objective(wStar);
  const all = [0, 1, 2, 3, 4, 5];

  it('with an orthonormal encoding (S^T S = I) and k = n it equals uncoded gradient descent to 1e-6', () => {
    for (const enc of [paley(n), new HadamardEncoding(n, 64 / n, 5)]) {
      const coded = new EncodedLeastSquares(enc.encode(x, p), enc.encode(y, 1), enc.rows, p, workers);
      const wc = new Float64Array(p);
      const wu = new Float64Array(p);
      const g = new Float64Array(p);
      for (let t = 0; t < 200; t++) {
        coded.step(wc, all, 0.005, g);
        uncoded.step(wu, all, 0.005, g);
        for (let c = 0; c < p; c++) expect(Math.abs(wc[c]! - wu[c]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(wu[c]!)));
      }
      expect(Math.abs(coded.objective(wc) / fStar - 1)).toBeLessThan(1e-6);
    }
  });

  it('with k < n the ETF-encoded iterate stays within kappa^2 f(w*) (kappa = (1+eps)/(1-eps)); the gap grows as k shrinks', () => {
    const enc = paley(n);
    const coded = new EncodedLeastSquares(enc.encode(x, p), enc.encode(y, 1), enc.rows, p, workers);
    const rng = new Rng(2, 'stragglers');
    const gaps: number[] = [];
    for (const k of [6, 5, 4]) {
      const w = new Float64Array(p);
      const g = new Float64Array(p);
      const order = Int32Array.from(all);
      let avgGap = 0;
      for (let t = 0; t < 400; t++) {
        rng.shuffle(order); // the first k to arrive this step
        coded.step(w, order.subarray(0, k), 0.004, g);
        if (t >= 300) avgGap += coded.objective(w) / fStar - 1;
      }
      avgGap /= 100;
      gaps.push(avgGap);
      const eps = worstEpsilon(enc, workers, k);
      const kappa = (1 + eps) / (1 - eps);
      expect(coded.objective(w)).toBeLessThanOrEqual(kappa * kappa * fStar);
    }
    expect(gaps[0]!).toBeLessThan(1e-9);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
  });

  it('L-BFGS: with S^T S = I and k = n it equals uncoded L-BFGS to 1e-6 and solves in a few steps; with k < n it stays within kappa^2 f(w*)', () => {
    const enc = paley(n);
    const coded = new EncodedLeastSquares(enc.encode(x, p), enc.encode(y, 1), enc.rows, p, workers);
    const lc = new EncodedLbfgs(coded, 5);
    const lu = new EncodedLbfgs(uncoded, 5);
    const wc = new Float64Array(p);
    const wu = new Float64Array(p);
    for (let t = 0; t < 10; t++) {
      lc.step(wc, all, 1);
      lu.step(wu, all, 1);
      for (let c = 0; c < p; c++) expect(Math.abs(wc[c]! - wu[c]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(wu[c]!)));
    }
    // Measured: f/f* - 1 = 1e-13 after 8 steps (gradient descent above needs hundreds).
    expect(coded.objective(wc) / fStar - 1).toBeLessThan(1e-9);
    const rng = new Rng(2, 'stragglers-lbfgs');
    for (const k of [5, 4]) {
      const l = new EncodedLbfgs(coded, 5);
      const w = new Float64Array(p);
      const order = Int32Array.from(all);
      for (let t = 0; t < 100; t++) {
        rng.shuffle(order);
        l.step(w, order.subarray(0, k), 0.5);
      }
      const eps = worstEpsilon(enc, workers, k);
      expect(coded.objective(w)).toBeLessThanOrEqual(((1 + eps) / (1 - eps)) ** 2 * fStar);
      expect(l.acceptedPairs).toBeGreaterThan(50);
    }
  });
});
