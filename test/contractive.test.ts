import { describe, expect, it } from 'vitest';
import { Contractive, qsgdOmega } from '../comm/compress/contractive.ts';
import { Qsgd } from '../comm/compress/qsgd.ts';
import { ClassicEF } from '../comm/compress/error-feedback.ts';
import { compressorFor } from '../comm/communicator.ts';
import { Rng } from '../src/util/rng.ts';

describe('contractive scaling of unbiased quantisers for error feedback', () => {
  it('QSGD/(1+omega) is a contraction on average: E||C(x)-x||^2 <= (1 - 1/(1+omega)) ||x||^2', () => {
    const d = 2048;
    const s = 2;
    const omega = qsgdOmega(d, s);
    expect(omega).toBeCloseTo(Math.sqrt(d) / s, 12);
    const rng = new Rng(3, 'contractive');
    const x = Float32Array.from({ length: d }, () => rng.normal());
    const c = new Contractive(new Qsgd(s), (n) => qsgdOmega(n, s));
    const out = new Float32Array(d);
    let err = 0;
    const T = 200;
    for (let t = 0; t < T; t++) {
      c.decode(c.encode(x, () => rng.next()), out);
      for (let i = 0; i < d; i++) err += (out[i]! - x[i]!) ** 2;
    }
    const norm2 = x.reduce((a, v) => a + v * v, 0);
    expect(err / T).toBeLessThanOrEqual((1 - 1 / (1 + omega)) * norm2 * 1.02);
    // decodeAdd scales the same way.
    const p = c.encode(x, () => 0.5);
    const a = new Float32Array(d);
    const b = new Float32Array(d);
    c.decode(p, a);
    new Qsgd(s).decode(p, b);
    for (let i = 0; i < d; i += 97) expect(a[i]).toBeCloseTo(b[i]! / (1 + omega), 5);
  });

  it('with error feedback the memory stays bounded for QSGD s=2 on long vectors only when scaled', () => {
    const d = 4096;
    const rng = new Rng(5, 'ef-growth');
    const grow = (scaled: boolean) => {
      const comp = scaled ? compressorFor({ kind: 'qsgd', levels: 2 }, [], d, 'ef') : new Qsgd(2);
      const ef = new ClassicEF(comp, d);
      const g = new Float32Array(d);
      for (let t = 0; t < 60; t++) {
        for (let i = 0; i < d; i++) g[i] = rng.normal();
        ef.step(g, () => rng.next());
      }
      return Math.sqrt(ef.memory.reduce((a, v) => a + v * v, 0) / d);
    };
    expect(grow(false)).toBeGreaterThan(1e3);
    expect(grow(true)).toBeLessThan(50);
  });
});
