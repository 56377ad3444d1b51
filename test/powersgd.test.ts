import { describe, expect, it } from 'vitest';
import { all, create } from 'mathjs';
import { PowerSgd, powerSgdOnRing, orthonormalizeColumns, type PowerSgdLayer, type PowerSgdOptions } from '../comm/powersgd/index.ts';
import { Rng } from '../src/util/rng.ts';
import { inprocNet } from './helpers/inproc-net.ts';

const math = create(all);
const noComm = async (_: Float32Array): Promise<void> => {};

function gaussian(rng: Rng, len: number, scale = 1): Float32Array {
  return Float32Array.from({ length: len }, () => scale * rng.normal());
}

/** Layers tiling a vector, from shapes. */
function layersOf(shapes: number[][]): PowerSgdLayer[] {
  let offset = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const l = { offset, size, shape };
    offset += size;
    return l;
  });
}

/** Row-major n x m float64 product A B^T of A (n x r) and B (m x r), both row-major. */
function abt(A: Float64Array | Float32Array, B: Float64Array | Float32Array, n: number, m: number, r: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += A[i * r + k]! * B[j * r + k]!;
    out[i * m + j] = s;
  }
  return out;
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>, from = 0, len = want.length): number {
  let d = 0;
  let w = 0;
  for (let i = 0; i < len; i++) {
    d += (got[from + i]! - want[i]!) ** 2;
    w += want[i]! ** 2;
  }
  return Math.sqrt(d / w);
}

/** n x k matrix (row-major, float64) with orthonormal columns, by Gram-Schmidt of Gaussians. */
function orthonormal(rng: Rng, n: number, k: number): Float64Array {
  const cols = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.normal()));
  for (let c = 0; c < k; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < c; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += cols[l]![i]! * cols[c]![i]!;
        for (let i = 0; i < n; i++) cols[c]![i]! -= dot * cols[l]![i]!;
      }
    }
    const norm = Math.hypot(...cols[c]!);
    for (let i = 0; i < n; i++) cols[c]![i]! /= norm;
  }
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = cols[c]![i]!;
  return out;
}

/** U diag(s) V^T with random orthonormal U (n x k), V (m x k), k = s.length. */
function withSpectrum(rng: Rng, n: number, m: number, s: number[]): { M: Float64Array; U: Float64Array; V: Float64Array } {
  const k = s.length;
  const U = orthonormal(rng, n, k);
  const V = orthonormal(rng, m, k);
  const US = U.map((x, idx) => x * s[idx % k]!);
  return { M: abt(US, V, n, m, k), U, V };
}

/** Best rank-r approximation M V_r V_r^T, V_r = top-r eigenvectors of M^T M (mathjs eigs). */
function truncatedSvd(M: Float64Array, n: number, m: number, r: number): Float64Array {
  const MtM: number[][] = Array.from({ length: m }, (_, a) =>
    Array.from({ length: m }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += M[i * m + a]! * M[i * m + b]!;
      return s;
    }),
  );
  const { eigenvectors } = math.eigs(MtM);
  const top = [...eigenvectors].sort((x, y) => Number(y.value) - Number(x.value)).slice(0, r);
  const V = new Float64Array(m * r);
  top.forEach((e, k) => {
    const vec = (Array.isArray(e.vector) ? e.vector : (e.vector as { toArray(): number[] }).toArray()) as number[];
    for (let j = 0; j < m; j++) V[j * r + k] = vec[j]!;
  });
  const MV = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += M[i * m + j]! * V[j * r + k]!;
    MV[i * r + k] = s;
  }
  return abt(MV, V, n, m, r);
}

describe('PowerSGD numerical core', () => {
  it('recovers a rank-r matrix exactly after ONE step from a random Q (single worker, rank r, no EF), and stays exact', async () => {
    const cases: { shape: number[]; r: number }[] = [
      { shape: [40, 30], r: 3 },
      { shape: [17, 50], r: 2 },
      { shape: [64, 64], r: 4 },
      { shape: [12, 3, 3, 4], r: 2 }, // viewed as 12 x 36
      { shape: [100, 9], r: 1 },
    ];
    for (const { shape, r } of cases) {
      const rng = new Rng(5, 'rank-r', ...shape, r);
      const n = shape[0]!;
      const m = shape.slice(1).reduce((a, b) => a * b, 1);
      const M = Float32Array.from(abt(gaussian(rng, n * r), gaussian(rng, m * r), n, m, r));
      const ps = new PowerSgd(layersOf([shape]), { rank: r, errorFeedback: false, seed: 11 }, noComm, 1);
      expect(ps.compressedLayers()).toEqual([0]);
      const out = new Float32Array(n * m);
      await ps.step(M, out);
      expect(relErr(out, M)).toBeLessThan(1e-4);
      for (let t = 0; t < 3; t++) {
        await ps.step(M, out);
        expect(relErr(out, M)).toBeLessThan(1e-4);
      }
      // Rank r - 1 cannot: the test distinguishes exact recovery from a lucky tolerance.
      if (r > 1) {
        const low = new PowerSgd(layersOf([shape]), { rank: r - 1, errorFeedback: false, seed: 11 }, noComm, 1);
        await low.step(M, out);
        expect(relErr(out, M)).toBeGreaterThan(1e-2);
      }
    }
  });

  it('n workers over in-process ring all-reduce == one worker on the mean gradient (with EF, dense + compressed layers, several steps)', async () => {
    const layerSets = [
      // bias, 20x12 (rate 3.75), 5x4 (low rate: dense), 6x2x2x3 = 6x12 (rate exactly 2: compressed)
      { shapes: [[7], [20, 12], [5, 4], [6, 2, 2, 3]], rank: 2 },
      { shapes: [[33, 8], [16], [9, 40]], rank: 3 },
    ];
    const steps = 4;
    for (const { shapes, rank } of layerSets) {
      const layers = layersOf(shapes);
      const len = layers.reduce((a, l) => a + l.size, 0);
      for (const n of [2, 3, 5]) {
        const rng = new Rng(9, 'multi', n, len);
        const grads = Array.from({ length: steps }, () => Array.from({ length: n }, () => gaussian(rng, len)));
        const opts: PowerSgdOptions = { rank, seed: 3, errorFeedback: true, warmStart: true };
        const { eps } = inprocNet(n);
        const multi = eps.map((ep) => powerSgdOnRing(ep, layers, opts));
        const single = new PowerSgd(layers, opts, noComm, 1);
        expect(single.compressedLayers()).toEqual(multi[0]!.compressedLayers());
        const outs = Array.from({ length: n }, () => new Float32Array(len));
        const ref = new Float32Array(len);
        for (let t = 0; t < steps; t++) {
          await Promise.all(multi.map((p, w) => p.step(grads[t]![w]!, outs[w]!)));
          const mean = new Float32Array(len);
          for (let i = 0; i < len; i++) {
            let s = 0;
            for (let w = 0; w < n; w++) s += grads[t]![w]![i]!;
            mean[i] = s / n;
          }
          await single.step(mean, ref);
          for (let w = 1; w < n; w++) expect(Buffer.from(outs[w]!.buffer).equals(Buffer.from(outs[0]!.buffer))).toBe(true);
          for (const l of layers) expect(relErr(outs[0]!.subarray(l.offset, l.offset + l.size), ref.subarray(l.offset, l.offset + l.size))).toBeLessThan(1e-4);
        }
        // The workers' mean residual evolves exactly like the single worker's.
        const meanRes = new Float64Array(len);
        for (const p of multi) p.residual().forEach((x, i) => (meanRes[i]! += x / n));
        expect(relErr(meanRes, single.residual())).toBeLessThan(1e-4);
        // Two all-reduces per compressed step ([dense | P] and [Q]), each 2(n-1) messages per worker.
        for (const ep of eps) expect(ep.stats.messagesSent).toBe(steps * 2 * 2 * (n - 1));
      }
    }
  });

  it('warm-started steps on a fixed matrix converge to its best rank-r approximation (known spectrum)', async () => {
    const n = 30;
    const m = 20;
    const r = 4;
    const { M: M64, U, V } = withSpectrum(new Rng(2, 'spectrum'), n, m, [5, 4, 3, 2.5, 0.5, 0.4, 0.3, 0.2, 0.1]);
    const best = abt(
      U.filter((_, i) => i % 9 < r).map((x, i) => x * [5, 4, 3, 2.5][i % r]!),
      V.filter((_, i) => i % 9 < r),
      n,
      m,
      r,
    );
    const M = Float32Array.from(M64);
    const out = new Float32Array(n * m);
    const warm = new PowerSgd(layersOf([[n, m]]), { rank: r, errorFeedback: false, seed: 1 }, noComm, 1);
    await warm.step(M, out);
    const first = relErr(out, best);
    expect(first).toBeGreaterThan(1e-3);
    for (let t = 1; t < 30; t++) await warm.step(M, out);
    expect(relErr(out, best)).toBeLessThan(1e-5);
    // Without warm start every step is one power iteration from a fresh Q: no convergence.
    const cold = new PowerSgd(layersOf([[n, m]]), { rank: r, errorFeedback: false, warmStart: false, seed: 1 }, noComm, 1);
    for (let t = 0; t < 30; t++) await cold.step(M, out);
    expect(relErr(out, best)).toBeGreaterThan(1e-3);
  });

  it('converges to the truncated SVD (mathjs eigs of M^T M) of a low-rank-plus-noise matrix', async () => {
    const n = 40;
    const m = 25;
    const r = 3;
    const rng = new Rng(4, 'noisy');
    const base = abt(gaussian(rng, n * r), gaussian(rng, m * r), n, m, r);
    const M = Float32Array.from(base, (x) => x + 0.05 * rng.normal());
    const best = truncatedSvd(Float64Array.from(M), n, m, r);
    const ps = new PowerSgd(layersOf([[n, m]]), { rank: r, errorFeedback: false, seed: 8 }, noComm, 1);
    const out = new Float32Array(n * m);
    for (let t = 0; t < 30; t++) await ps.step(M, out);
    expect(relErr(out, best)).toBeLessThan(1e-4);
    expect(relErr(out, M)).toBeGreaterThan(1e-3); // it is an approximation, not M itself
  });

  it('reports n m / ((n + m) r) per compressed layer; 1-D and low-rate layers stay dense; all-reduced element counts match', async () => {
    const shapes = [[10], [64, 32], [8, 4], [16, 3, 3, 2], [], [3, 100]];
    const layers = layersOf(shapes);
    const sizes: number[] = [];
    const counting = async (d: Float32Array): Promise<void> => void sizes.push(d.length);
    const ps = new PowerSgd(layers, { rank: 4, seed: 1, startIter: 2 }, counting, 1);
    expect(ps.compressedLayers()).toEqual([1, 3]);
    const rate1 = (64 * 32) / ((64 + 32) * 4);
    const rate3 = (16 * 18) / ((16 + 18) * 4);
    const { perLayer, overall } = ps.compressionRatio();
    expect(perLayer).toEqual([1, rate1, 1, rate3, 1, 1]);
    const total = 10 + 2048 + 32 + 288 + 1 + 300;
    const dense = 10 + 32 + 1 + 300;
    const sent = dense + 4 * (64 + 32) + 4 * (16 + 18);
    expect(overall).toBeCloseTo(total / sent, 12);
    expect(ps.elementsPerStep()).toBe(sent);
    const rng = new Rng(1, 'rates');
    const out = new Float32Array(total);
    for (let t = 0; t < 4; t++) await ps.step(gaussian(rng, total), out);
    // startIter = 2 dense steps (one all-reduce of everything), then [dense | P] and [Q].
    expect(sizes).toEqual([total, total, dense + 4 * 64 + 4 * 16, 4 * 32 + 4 * 18, dense + 4 * 64 + 4 * 16, 4 * 32 + 4 * 18]);
    // [8, 4] has rate 32 / 48 < 2; [3, 100] is clamped to rank 3, rate 300 / 309 < 2.
    expect(ps.plans[5]!.compressed).toBe(false);
    // A rate exactly at the threshold is sent dense, as PyTorch's hook does (16 x 16 at rank 4:
    // 256 / 128 = 2 is not > 2); just above it compresses.
    const edge = new PowerSgd(layersOf([[16, 16]]), { rank: 4, seed: 1 }, noComm, 1);
    expect(edge.compressedLayers()).toEqual([]);
    expect(edge.compressionRatio()).toEqual({ overall: 1, perLayer: [1] });
    // Rank is clamped to min(r, rows, cols): a full-rank factorisation of [3, 100] is exact.
    const full = new PowerSgd(layersOf([[3, 100]]), { rank: 4, seed: 1, minCompressionRate: 0.5, errorFeedback: false }, noComm, 1);
    expect(full.plans[0]!.rank).toBe(3);
    expect(full.compressionRatio().perLayer[0]).toBeCloseTo(300 / (103 * 3), 12);
    const g = gaussian(rng, 300);
    const o = new Float32Array(300);
    await full.step(g, o);
    expect(relErr(o, g)).toBeLessThan(1e-5);
  });

  it('compresses only when n m / ((n + m) r) > minCompressionRate (PyTorch): 8x8 at rank 2 dense, 9x9 compressed', async () => {
    // 8x8, r=2: 64 / 32 = 2 (= default threshold) -> dense; 9x9: 81 / 36 = 2.25 -> compressed.
    // 4x4 at rank 1 and 12x12 at rank 3 sit exactly at 2 too; 9x9 at rank 2: 81 / 36 = 2.25.
    for (const [n, r, compressed] of [[4, 1, false], [8, 2, false], [12, 3, false], [9, 2, true]] as const) {
      const sizes: number[] = [];
      const ps = new PowerSgd(layersOf([[n, n]]), { rank: r, seed: 1 }, async (d) => void sizes.push(d.length), 1);
      expect(ps.plans[0]!.compressed).toBe(compressed);
      await ps.step(new Float32Array(n * n).fill(1), new Float32Array(n * n));
      // Dense: one all-reduce of n*n elements; compressed: P (n*r) then Q (n*r).
      expect(sizes).toEqual(ps.plans[0]!.compressed ? [n * r, n * r] : [n * n]);
    }
    // The threshold is the configured one: 8x8 at rank 2 compresses once it is below 2.
    expect(new PowerSgd(layersOf([[8, 8]]), { rank: 2, seed: 1, minCompressionRate: 1.99 }, noComm, 1).compressedLayers()).toEqual([0]);
  });

  it('error feedback telescopes: sum of outputs + final residual == sum of gradients (single worker)', async () => {
    for (const startIter of [0, 3]) {
      const layers = layersOf([[5], [30, 20], [4, 4], [12, 2, 5]]);
      const len = layers.reduce((a, l) => a + l.size, 0);
      const ps = new PowerSgd(layers, { rank: 1, seed: 5, startIter }, noComm, 1);
      const rng = new Rng(6, 'telescope', startIter);
      const sumOut = new Float64Array(len);
      const sumGrad = new Float64Array(len);
      const out = new Float32Array(len);
      const T = 25;
      for (let t = 0; t < T; t++) {
        const g = gaussian(rng, len);
        await ps.step(g, out);
        for (let i = 0; i < len; i++) {
          sumOut[i]! += out[i]!;
          sumGrad[i]! += g[i]!;
        }
      }
      const res = ps.residual();
      const total = sumOut.map((x, i) => x + res[i]!);
      let maxErr = 0;
      let maxAbs = 0;
      for (let i = 0; i < len; i++) {
        maxErr = Math.max(maxErr, Math.abs(total[i]! - sumGrad[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(sumGrad[i]!));
      }
      expect(maxErr).toBeLessThan(1e-5 * maxAbs);
      // The residual is material (rank 1 of random gradients): the identity is not vacuous.
      expect(relErr(sumOut, sumGrad)).toBeGreaterThan(0.1);
      // Dense layers carry no residual.
      for (const i of [0, 1, 2, 3, 4]) expect(res[i]).toBe(0);
    }
  });

  it('is deterministic: same seed => bit-identical outputs; another seed => different', async () => {
    const layers = layersOf([[9], [25, 16], [8, 3, 3]]);
    const len = layers.reduce((a, l) => a + l.size, 0);
    for (const warmStart of [true, false]) {
      const grads = Array.from({ length: 6 }, (_, t) => gaussian(new Rng(3, 'det', t), len));
      const run = async (seed: number): Promise<Buffer[]> => {
        const ps = new PowerSgd(layers, { rank: 2, seed, warmStart }, noComm, 1);
        const outs: Buffer[] = [];
        for (const g of grads) {
          const out = new Float32Array(len);
          await ps.step(g, out);
          outs.push(Buffer.from(out.buffer));
        }
        return outs;
      };
      const a = await run(42);
      const b = await run(42);
      const c = await run(43);
      a.forEach((x, t) => expect(x.equals(b[t]!)).toBe(true));
      expect(a[0]!.equals(c[0]!)).toBe(false);
    }
  });

  it('handles zero gradients (no NaN) and recovers; out may alias grad', async () => {
    const n = 20;
    const m = 15;
    const r = 2;
    const rng = new Rng(7, 'zero');
    const M = Float32Array.from(abt(gaussian(rng, n * r), gaussian(rng, m * r), n, m, r));
    const ps = new PowerSgd(layersOf([[n, m], [3]]), { rank: r, seed: 2 }, noComm, 1);
    const out = new Float32Array(n * m + 3);
    await ps.step(new Float32Array(n * m + 3), out);
    expect(out.every((x) => x === 0)).toBe(true);
    const g = new Float32Array(n * m + 3);
    g.set(M);
    g.set([1, 2, 3], n * m);
    for (let t = 0; t < 3; t++) await ps.step(g, out);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(relErr(out, M, 0, n * m)).toBeLessThan(1e-4);
    // In place: grad === out.
    const ps2 = new PowerSgd(layersOf([[n, m], [3]]), { rank: r, seed: 2, errorFeedback: false }, noComm, 1);
    const inplace = Float32Array.from(g);
    await ps2.step(inplace, inplace);
    expect(relErr(inplace, g)).toBeLessThan(1e-4);
  });

  it('orthonormalises columns, replacing zero and dependent ones deterministically', () => {
    const n = 12;
    const r = 4;
    const rng = new Rng(1, 'orth');
    const Pt = gaussian(rng, r * n);
    Pt.copyWithin(n, 0, n); // column 1 = column 0
    Pt.fill(0, 3 * n, 4 * n); // column 3 = 0
    orthonormalizeColumns(Pt, 0, n, r, new Float64Array(r * n));
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < r; b++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += Pt[a * n + i]! * Pt[b * n + i]!;
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-6);
      }
    }
  });

  it('rejects layers that do not tile the vector, bad options, and overlapping steps', async () => {
    expect(() => new PowerSgd([{ offset: 1, size: 4, shape: [2, 2] }], { rank: 1, seed: 1 }, noComm, 1)).toThrow(/offset/);
    expect(() => new PowerSgd([{ offset: 0, size: 5, shape: [2, 2] }], { rank: 1, seed: 1 }, noComm, 1)).toThrow(/elements/);
    expect(() => new PowerSgd([], { rank: 0, seed: 1 }, noComm, 1)).toThrow(/rank/);
    expect(() => new PowerSgd([], { rank: 1, seed: 1.5 }, noComm, 1)).toThrow(/seed/);
    const ps = new PowerSgd(layersOf([[4, 4]]), { rank: 1, seed: 1 }, noComm, 1);
    await expect(ps.step(new Float32Array(15), new Float32Array(16))).rejects.toThrow(/16 elements/);
    const slow = new PowerSgd(layersOf([[4, 4]]), { rank: 1, seed: 1 }, () => new Promise((r) => setTimeout(r, 5)), 2);
    const g = new Float32Array(16).fill(1);
    const first = slow.step(g, new Float32Array(16));
    await expect(slow.step(g, new Float32Array(16))).rejects.toThrow(/still running/);
    await first;
  });
});
