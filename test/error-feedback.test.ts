// Error feedback: classic EF telescopes (what was sent plus what is remembered is everything that
// came in), EF21's receiver tracks the sum of the workers' estimates, and `none` is the bare
// compressor. Checked with float64 accumulators and an explicit float32 rounding budget.
import { describe, expect, it } from 'vitest';
import {
  ClassicEF,
  createCompressor,
  createErrorFeedback,
  Ef21Receiver,
  Ef21Worker,
  type Compressor,
  type CompressorSpec,
} from '../comm/compress/index.ts';
import { mulberry32, normals } from './helpers/prng.ts';



const EPS32 = 2 ** -24; // unit roundoff of float32

describe('classic error feedback', () => {
  // e_{t+1} = e_t + g_t - decode(p_t), so sum_t decode(p_t) + e_T = sum_t g_t exactly in real
  // arithmetic. In float32 each step rounds twice (e + g, then minus the decoded value); each
  // rounding moves an element by at most EPS32 times the rounded result, so the float64 check
  // gets a per-element budget of EPS32 * sum_t (|e_t + g_t| + |e_{t+1}|), tracked as we go.
  const specs: CompressorSpec[] = [
    { kind: 'topk', ratio: 0.01 },
    { kind: 'sign' },
    { kind: 'qsgd-topk', ratio: 0.05, levels: 4 },
    { kind: 'sign-topk', ratio: 0.1 },
    { kind: 'randomk', ratio: 0.1 },
  ];
  for (const spec of specs) {
    it(`telescopes over T steps: ${JSON.stringify(spec)}`, () => {
      const d = 2000;
      const T = 60;
      const c = createCompressor(spec);
      const ef = createErrorFeedback('ef', c, d);
      expect(ef).toBeInstanceOf(ClassicEF);
      const rand = mulberry32(1);
      const g = new Float32Array(d);
      const decoded = new Float32Array(d);
      const sumG = new Float64Array(d);
      const sumSent = new Float64Array(d);
      const budget = new Float64Array(d);
      const memory = ef.memory;
      let sentAnything = 0;
      for (let t = 0; t < T; t++) {
        normals(d, rand, 1, g);
        for (let i = 0; i < d; i++) {
          sumG[i]! += g[i]!;
          budget[i]! += EPS32 * Math.abs(memory[i]! + g[i]!);
        }
        const p = ef.step(g, rand);
        expect(ef.memory).toBe(memory); // the same buffer every step: nothing reallocated
        c.decode(p, decoded);
        for (let i = 0; i < d; i++) {
          sumSent[i]! += decoded[i]!;
          budget[i]! += EPS32 * Math.abs(memory[i]!);
          if (decoded[i] !== 0) sentAnything++;
        }
      }
      expect(sentAnything).toBeGreaterThan(0);
      let worst = 0;
      for (let i = 0; i < d; i++) {
        const err = Math.abs(sumSent[i]! + memory[i]! - sumG[i]!);
        expect(err).toBeLessThanOrEqual(budget[i]! + 1e-12);
        worst = Math.max(worst, err);
      }
      // The memory really holds the untransmitted mass (a no-op memory would fail the check above,
      // and a sparse compressor cannot have sent everything).
      if (spec.kind !== 'sign') expect(memory.some((v) => Math.abs(v) > 1)).toBe(true);
      expect(worst).toBeLessThan(1e-3);
    });
  }

  it('the first step sends C(g) and remembers g - decode(C(g)); reset zeroes the memory', () => {
    const c = createCompressor({ kind: 'topk', ratio: 0.25 });
    const ef = createErrorFeedback('ef', c, 4);
    const p = ef.step(Float32Array.from([1, -4, 2, 0.5]), mulberry32(1));
    const out = new Float32Array(4);
    c.decode(p, out);
    expect(Array.from(out)).toEqual([0, -4, 0, 0]);
    expect(Array.from(ef.memory)).toEqual([1, 0, 2, 0.5]);
    // Next step: e + g = (1, 1, 2.5, 0.5) -> top-1 is 2.5.
    c.decode(ef.step(Float32Array.from([0, 1, 0.5, 0]), mulberry32(1)), out);
    expect(Array.from(out)).toEqual([0, 0, 2.5, 0]);
    expect(Array.from(ef.memory)).toEqual([1, 1, 0, 0.5]);
    ef.reset();
    expect(Array.from(ef.memory)).toEqual([0, 0, 0, 0]);
  });
});

describe('EF21', () => {
  it("the receiver's running sum equals the sum of the workers' g_i after T steps", () => {
    const n = 4;
    const d = 3000;
    const T = 40;
    for (const spec of [{ kind: 'topk', ratio: 0.02 }, { kind: 'sign' }, { kind: 'qsgd', levels: 2 }] as CompressorSpec[]) {
      const workers = Array.from({ length: n }, () => createErrorFeedback('ef21', createCompressor(spec), d));
      // The receiver decodes with its own instance: payloads are self-describing.
      const rx = new Ef21Receiver(createCompressor(spec), d);
      const rand = mulberry32(2);
      const g = new Float32Array(d);
      // Budget: the receiver's float32 sum rounds once per received payload (<= EPS32 |sum|) and
      // each worker's g_i once per step (<= EPS32 |g_i|).
      const budget = new Float64Array(d);
      for (let t = 0; t < T; t++) {
        for (const w of workers) {
          normals(d, rand, 1, g);
          for (let i = 0; i < d; i++) g[i]! += Math.sin(i + t / 10); // a drifting common gradient
          rx.receive(w.step(g, rand));
          for (let i = 0; i < d; i++) budget[i]! += EPS32 * (Math.abs(rx.sum[i]!) + Math.abs(w.memory[i]!));
        }
      }
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (const w of workers) s += w.memory[i]!;
        expect(Math.abs(rx.sum[i]! - s)).toBeLessThanOrEqual(budget[i]! + 1e-12);
      }
      const avg = new Float32Array(d);
      rx.average(avg, n);
      expect(avg[7]).toBe(Math.fround(rx.sum[7]! * (1 / n)));
    }
  });

  it('a worker sends C(grad - g_i) and adds its decoded value to g_i', () => {
    const c = createCompressor({ kind: 'topk', ratio: 0.5 });
    const w = new Ef21Worker(c, 4);
    const out = new Float32Array(4);
    c.decode(w.step(Float32Array.from([3, -1, 0.5, 2]), mulberry32(1)), out);
    expect(Array.from(out)).toEqual([3, 0, 0, 2]);
    expect(Array.from(w.memory)).toEqual([3, 0, 0, 2]);
    // grad - g = (1 - 3, 1, 0.5, 2 - 2) = (-2, 1, 0.5, 0): top-2 is -2 and 1.
    c.decode(w.step(Float32Array.from([1, 1, 0.5, 2]), mulberry32(1)), out);
    expect(Array.from(out)).toEqual([-2, 1, 0, 0]);
    expect(Array.from(w.memory)).toEqual([1, 1, 0, 2]);
  });

  it('with a contractive compressor and a fixed gradient, g_i converges to it', () => {
    const d = 500;
    const grad = normals(d, mulberry32(3));
    const w = new Ef21Worker(createCompressor({ kind: 'topk', ratio: 0.1 }), d);
    for (let t = 0; t < 10; t++) w.step(grad, mulberry32(1));
    expect(Array.from(w.memory)).toEqual(Array.from(grad)); // 10 steps of 10% cover everything
  });
});

describe('no error feedback', () => {
  it('sends exactly C(grad) and keeps no memory', () => {
    const spec: CompressorSpec = { kind: 'qsgd', levels: 4 };
    const ef = createErrorFeedback('none', createCompressor(spec), 100);
    const g = normals(100, mulberry32(4));
    const p = ef.step(g, mulberry32(9));
    const direct: Compressor = createCompressor(spec);
    expect(Array.from(p)).toEqual(Array.from(direct.encode(g, mulberry32(9))));
    expect(ef.memory.length).toBe(0);
  });

  it('rejects unknown modes and gradients of the wrong length', () => {
    const c = createCompressor({ kind: 'sign' });
    expect(() => createErrorFeedback('ef42' as 'ef', c, 3)).toThrow(/none, ef, ef21/);
    expect(() => createErrorFeedback('ef', c, 3).step(new Float32Array(4), mulberry32(1))).toThrow(/4 elements, expected 3/);
  });
});
