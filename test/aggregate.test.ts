import { describe, expect, it } from 'vitest';
import {
  CoordinateMedianAggregator,
  createAggregator,
  GeometricMedianAggregator,
  KrumAggregator,
  MeanAggregator,
  TrimmedMeanAggregator,
} from '../comm/aggregate/index.ts';
import { ParameterError } from '../comm/param-error.ts';
import { Rng } from '../src/util/rng.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
/** Five 2-d vectors, the last one an outlier (squared distances worked out in the Krum test). */
const five = [f32(1, 0), f32(2, 1), f32(3, -1), f32(4, 2), f32(100, -50)];

function run(agg: { aggregate(i: readonly Float32Array[], o: Float32Array): void }, inputs: Float32Array[]): number[] {
  const out = new Float32Array(inputs[0]!.length);
  agg.aggregate(inputs, out);
  return Array.from(out);
}

describe('robust aggregators on fixed vectors (hand-computed)', () => {
  it('mean', () => {
    expect(run(new MeanAggregator(), five)).toEqual([22, Math.fround(-9.6)]);
  });

  it('coordinate median: odd n takes the middle, even n averages the two middle values', () => {
    expect(run(new CoordinateMedianAggregator(), five)).toEqual([3, 0]);
    expect(run(new CoordinateMedianAggregator(), [f32(1), f32(10), f32(3), f32(2)])).toEqual([2.5]);
    // A NaN orders as +Infinity: a minority of NaNs cannot move the median off the honest values.
    expect(run(new CoordinateMedianAggregator(), [f32(NaN), f32(1), f32(2)])).toEqual([2]);
  });

  it('trimmed mean drops floor(beta n) at each end', () => {
    // beta 0.2, n 5: t = 1; columns {2,3,4} and {-1,0,1}.
    expect(run(new TrimmedMeanAggregator(0.2), five)).toEqual([3, 0]);
    // beta 0.1, n 5: t = 0, the mean.
    expect(run(new TrimmedMeanAggregator(0.1), five)).toEqual([22, Math.fround(-9.6)]);
    // n 10, beta 0.2: t = 2 of each end of 1..10 -> mean of 3..8 = 5.5.
    const ten = Array.from({ length: 10 }, (_, i) => f32(10 - i));
    expect(run(new TrimmedMeanAggregator(0.2), ten)).toEqual([5.5]);
  });

  it('Krum scores with n - f - 2 nearest; equal scores go to the lower index', () => {
    // Squared distances: d01=2 d02=5 d03=13 d12=5 d13=5 d23=10, the outlier >= 11810.
    // f = 1 -> 2 nearest: scores x0 = 2+5 = 7, x1 = 2+5 = 7, x2 = 5+5 = 10, x3 = 5+10 = 15,
    // x4 = 11810+11920 = 23730. x0 and x1 tie: x0 (lower index) is chosen.
    const krum = new KrumAggregator(5, 1);
    expect(run(krum, five)).toEqual([1, 0]);
    expect(Array.from(krum.scores)).toEqual([7, 7, 10, 15, 23730]);
    expect(Array.from(krum.selected.subarray(0, krum.selectedCount))).toEqual([0]);
    // Multi-Krum m = 3 averages x0, x1, x2; m = 4 adds x3.
    expect(run(new KrumAggregator(5, 1, 3), five)).toEqual([2, 0]);
    expect(run(new KrumAggregator(5, 1, 4), five)).toEqual([2.5, 0.5]);
    // The tie rule holds whatever the input order: swap x0 and x1, x1 (now at index 0) wins.
    expect(run(new KrumAggregator(5, 1), [five[1]!, five[0]!, ...five.slice(2)])).toEqual([2, 1]);
  });

  it('geometric median: Fermat point of a right isosceles triangle, a 120°+ vertex, a square', () => {
    const gm = new GeometricMedianAggregator({ tol: 1e-10, maxIter: 1000 });
    const t = (3 - Math.sqrt(3)) / 6; // all three angles at (t, t) are 120°
    const got = run(gm, [f32(0, 0), f32(1, 0), f32(0, 1)]);
    expect(gm.converged).toBe(true);
    expect(got[0]).toBeCloseTo(t, 6);
    expect(got[1]).toBeCloseTo(t, 6);
    // Angle at the origin > 120°: the median is that vertex.
    const v = run(new GeometricMedianAggregator({ tol: 1e-12, maxIter: 5000 }), [f32(0, 0), f32(1, 0), f32(-1, 0.1)]);
    expect(Math.hypot(v[0]!, v[1]!)).toBeLessThan(1e-5);
    expect(run(gm, [f32(0, 0), f32(2, 0), f32(0, 2), f32(2, 2)])).toEqual([1, 1]);
    // An unbounded (Infinity) or NaN vector has weight 0.
    const w = run(gm, [f32(0, 0), f32(1, 0), f32(0, 1), f32(Infinity, 0), f32(NaN, NaN)]);
    expect(w[0]).toBeCloseTo(t, 5);
    expect(w[1]).toBeCloseTo(t, 5);
  });

  it('NaN and infinite vectors from a Byzantine minority never win', () => {
    const bad = [...five.slice(0, 4), f32(NaN, NaN)];
    expect(run(new KrumAggregator(5, 1), bad)).toEqual([1, 0]);
    expect(run(new CoordinateMedianAggregator(), bad)).toEqual([3, 1]); // columns {1,2,3,4,inf} and {-1,0,1,2,inf}
    expect(run(new TrimmedMeanAggregator(0.2), bad)).toEqual([3, 1]); // drops 1 / -1 and the NaN (as +inf)
    const inf = [...five.slice(0, 4), f32(-Infinity, Infinity)];
    // columns sorted {-inf, 1, 2, 3, 4} and {-1, 0, 1, 2, inf}: the middle three average to 2 and 1.
    expect(run(new TrimmedMeanAggregator(0.2), inf)).toEqual([2, 1]);
  });

  it('the iteration cap is honoured and reported', () => {
    const gm = new GeometricMedianAggregator({ tol: 1e-15, maxIter: 3 });
    run(gm, five);
    expect(gm.iterations).toBe(3);
    expect(gm.converged).toBe(false);
  });
});

describe('properties over sizes', () => {
  it('identical inputs aggregate to themselves; order does not matter without ties', () => {
    const rng = new Rng(7, 'agg');
    for (const n of [3, 5, 8, 33]) {
      for (const d of [1, 17]) {
        const base = Float32Array.from({ length: d }, () => rng.normal());
        const same = Array.from({ length: n }, () => base.slice());
        const f = Math.floor((n - 3) / 2);
        const aggs = [
          new MeanAggregator(),
          new CoordinateMedianAggregator(),
          new TrimmedMeanAggregator(0.25),
          new KrumAggregator(n, f),
          new KrumAggregator(n, f, n - f),
          new GeometricMedianAggregator(),
        ];
        const random = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal()));
        const perm = rng.shuffle(random.slice());
        for (const a of aggs) {
          const got = run(a, same);
          for (let k = 0; k < d; k++) expect(Math.abs(got[k]! - base[k]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(base[k]!)));
          const x = run(a, random);
          const sx = a instanceof KrumAggregator ? Array.from(a.scores).sort((p, q) => p - q) : [];
          const y = run(a, perm);
          if (a instanceof KrumAggregator) {
            // Mutual nearest neighbours tie by construction (n - f - 2 = 1): compare the scores.
            expect(Array.from(a.scores).sort((p, q) => p - q)).toEqual(sx);
            if (new Set(sx).size < n) continue;
          }
          for (let k = 0; k < d; k++) expect(Math.abs(x[k]! - y[k]!)).toBeLessThanOrEqual(1e-5);
        }
      }
    }
  });

  it('with f Byzantine vectors far away, Krum, median and trimmed mean stay within the honest hull; the mean does not', () => {
    const rng = new Rng(3, 'byz');
    const n = 11;
    const f = 3;
    const d = 8;
    const honest = Array.from({ length: n - f }, () => Float32Array.from({ length: d }, () => rng.normal()));
    const byz = Array.from({ length: f }, () => new Float32Array(d).fill(1e6));
    const inputs = [...honest, ...byz];
    const within = (v: number[]): boolean => v.every((x, k) => honest.some((h) => h[k]! <= x) && honest.some((h) => h[k]! >= x));
    expect(within(run(new KrumAggregator(n, f), inputs))).toBe(true);
    expect(within(run(new KrumAggregator(n, f, n - f), inputs))).toBe(true);
    expect(within(run(new CoordinateMedianAggregator(), inputs))).toBe(true);
    expect(within(run(new TrimmedMeanAggregator(0.3), inputs))).toBe(true);
    expect(within(run(new MeanAggregator(), inputs))).toBe(false);
    const gm = run(new GeometricMedianAggregator(), inputs);
    expect(Math.max(...gm.map(Math.abs))).toBeLessThan(5);
  });
});

describe('parameter validation', () => {
  it('Krum refuses n <= 2f + 2 with a ParameterError naming f', () => {
    expect(() => new KrumAggregator(6, 2)).toThrow(ParameterError);
    try {
      createAggregator({ kind: 'krum', f: 2 }, 6);
      expect.unreachable();
    } catch (e) {
      const p = e as ParameterError;
      expect(p.key).toBe('f');
      expect(p.message).toBe('f: expected an integer f with n > 2f + 2 for n = 6 workers, i.e. 0 <= f <= 1, found 2');
    }
    expect(() => new KrumAggregator(7, 2)).not.toThrow();
    expect(() => new KrumAggregator(7, 2, 6)).toThrow(/m: expected an integer 1 <= m <= n - f = 5, found 6/);
    expect(() => new KrumAggregator(7, 1.5)).toThrow(ParameterError);
    expect(() => new TrimmedMeanAggregator(0.5)).toThrow(/beta: expected a fraction 0 <= beta < 0.5, found 0.5/);
    expect(() => new GeometricMedianAggregator({ maxIter: 0 })).toThrow(ParameterError);
    expect(() => createAggregator({ kind: 'nope' } as never, 3)).toThrow(/kind: expected one of mean/);
  });
});
