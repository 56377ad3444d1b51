import { describe, expect, it } from 'vitest';
import { learningRate } from '../optimizers/common/lr-schedule.ts';
import { sgdStep } from '../optimizers/common/sgd-update.ts';

describe('SGD update (torch.optim.SGD semantics)', () => {
  it('heavy-ball momentum with weight decay over three steps matches hand computation', () => {
    const p = Float32Array.from([1]);
    const v = new Float32Array(1);
    const lr = 0.1;
    const mu = 0.9;
    const wd = 0.01;
    let P = 1;
    let V = 0;
    for (const g of [0.5, -0.2, 0.3]) {
      sgdStep(p, Float32Array.from([g]), v, lr, mu, wd, false);
      const gg = g + wd * P;
      V = mu * V + gg;
      P = P - lr * V;
      expect(p[0]).toBeCloseTo(P, 6);
    }
  });

  it('nesterov uses g + mu * v', () => {
    const p = Float32Array.from([0]);
    const v = new Float32Array(1);
    sgdStep(p, Float32Array.from([1]), v, 1, 0.5, 0, true);
    expect(p[0]).toBeCloseTo(-(1 + 0.5 * 1), 6);
    sgdStep(p, Float32Array.from([1]), v, 1, 0.5, 0, true);
    // v = 0.5*1 + 1 = 1.5, d = 1 + 0.5*1.5 = 1.75
    expect(p[0]).toBeCloseTo(-1.5 - 1.75, 6);
  });
});

describe('learning-rate schedules', () => {
  const base = { kind: 'constant' as const, every: 10, gamma: 0.5, minLr: 0.01, warmup: 0 };
  it('constant, step, cosine, warm-up', () => {
    expect(learningRate(0.1, base, 50, 100)).toBe(0.1);
    expect(learningRate(0.1, { ...base, kind: 'step' }, 10, 100)).toBe(0.1);
    expect(learningRate(0.1, { ...base, kind: 'step' }, 11, 100)).toBe(0.05);
    expect(learningRate(0.1, { ...base, kind: 'step' }, 21, 100)).toBe(0.025);
    expect(learningRate(0.1, { ...base, kind: 'cosine' }, 1, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, { ...base, kind: 'cosine' }, 100, 100)).toBeCloseTo(0.01, 12);
    expect(learningRate(0.1, { ...base, warmup: 4 }, 2, 100)).toBe(0.05);
  });
});
