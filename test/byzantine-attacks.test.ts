import { describe, expect, it } from 'vitest';
import { aLittleIsEnough, aLittleIsEnoughZ, applyAttack, flipLabel, flipLabelsInPlace, validateAttack } from '../comm/byzantine/index.ts';
import { ParameterError } from '../comm/param-error.ts';
import { Rng } from '../src/util/rng.ts';

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const ctx = (n = 10, f = 3) => ({ n, f, normal: () => 0, reference: [] as Float32Array[] });

describe('Byzantine attacks', () => {
  it('sign-flip, scaled, in place or not', () => {
    const x = f32(1, -2, 0.5);
    const out = new Float32Array(3);
    applyAttack({ attack: 'sign-flip' }, x, out, ctx());
    expect(Array.from(out)).toEqual([-1, 2, -0.5]);
    applyAttack({ attack: 'sign-flip', scale: 4 }, x, out, ctx());
    expect(Array.from(out)).toEqual([-4, 8, -2]);
    applyAttack({ attack: 'scaled', factor: -100 }, x, x, ctx());
    expect(Array.from(x)).toEqual([-100, 200, -50]);
  });

  it('gaussian draws from the seeded stream: same seed, same vector; moments right', () => {
    const draw = (seed: number): Float32Array => {
      const rng = new Rng(seed, 'byz');
      const out = new Float32Array(20000);
      applyAttack({ attack: 'gaussian', std: 200, mean: 1 }, out, out, { ...ctx(), normal: () => rng.normal() });
      return out;
    };
    const a = draw(1);
    const same = (u: Float32Array, v: Float32Array): boolean => Buffer.from(u.buffer).equals(Buffer.from(v.buffer));
    expect(same(draw(1), a)).toBe(true);
    expect(same(draw(2), a)).toBe(false);
    let s = 0;
    let s2 = 0;
    for (const v of a) {
      s += v;
      s2 += v * v;
    }
    const mean = s / a.length;
    const std = Math.sqrt(s2 / a.length - mean * mean);
    expect(Math.abs(mean - 1)).toBeLessThan(4 * (200 / Math.sqrt(a.length)));
    expect(Math.abs(std / 200 - 1)).toBeLessThan(0.03);
  });

  it("a-little-is-enough: z from the paper's rule, then mean - z std per coordinate", () => {
    // n = 10, f = 1: s = floor(6) - 1 = 5, z = Phi^-1(0.5) = 0.
    expect(aLittleIsEnoughZ(10, 1)).toBeCloseTo(0, 14);
    // n = 10, f = 3: s = 3, z = Phi^-1(0.7) = 0.5244005127080407 (scipy).
    expect(aLittleIsEnoughZ(10, 3)).toBeCloseTo(0.5244005127080407, 12);
    // n = 50, f = 12 (the paper's CIFAR setting, 24%): s = 14, z = Phi^-1(0.72) = 0.5828415072712162.
    expect(aLittleIsEnoughZ(50, 12)).toBeCloseTo(0.5828415072712162, 12);
    // Reference {1, 3, 5} and {2, 2, 2}: means 3 and 2, sample std 2 and 0; z = 1.5 -> [0, 2].
    const out = new Float32Array(2);
    aLittleIsEnough([f32(1, 2), f32(3, 2), f32(5, 2)], 1.5, out);
    expect(Array.from(out)).toEqual([0, 2]);
    // Attackers that are already a majority have no z: refused, naming the key.
    expect(() => aLittleIsEnoughZ(10, 6)).toThrow(ParameterError);
    expect(() => validateAttack({ attack: 'a-little-is-enough' }, 10, 6)).toThrow(/workers: expected between 1 and 5 attackers/);
  });

  it('label-flip maps y to C - 1 - y and leaves the vector alone', () => {
    expect([0, 1, 9].map((y) => flipLabel(y, 10))).toEqual([9, 8, 0]);
    const labels = Int32Array.from([0, 3, 4]);
    flipLabelsInPlace(labels, 5);
    expect(Array.from(labels)).toEqual([4, 1, 0]);
    expect(() => flipLabel(10, 10)).toThrow(/outside 0..9/);
    const x = f32(1, 2);
    const out = new Float32Array(2);
    applyAttack({ attack: 'label-flip' }, x, out, ctx());
    expect(Array.from(out)).toEqual([1, 2]);
  });

  it('bad attack parameters are ParameterErrors', () => {
    expect(() => validateAttack({ attack: 'gaussian', std: -1 }, 10, 1)).toThrow(/std: expected a finite std >= 0, found -1/);
    expect(() => validateAttack({ attack: 'nope' } as never, 10, 1)).toThrow(/attack: expected one of/);
  });
});
