// The privacy and gossip cores together: decentralized gradient descent on a ring where every
// node broadcasts a clipped, Gaussian-noised copy of its model (DP consensus, issue #16),
// swept over epsilon. No tfjs; the core-level form of "epsilon -> infinity equals the noise-free
// run" and "error against the noise-free run as epsilon shrinks".
import { describe, expect, it } from 'vitest';
import { gossipStep, metropolisHastings, mixRow, ringGraph } from '../comm/gossip/index.ts';
import { gaussianSigma, PlainCompositionAccountant, privatize } from '../comm/privacy/index.ts';
import { Rng } from '../src/util/rng.ts';

const n = 8;
const d = 5;
const W = metropolisHastings(ringGraph(n));
const rng = new Rng(6, 'targets');
const targets = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal()));
const optimum = Float32Array.from({ length: d }, (_, k) => targets.reduce((s, t) => s + t[k]!, 0) / n);

/** Returns the final stacked models and the mean squared error to the optimum over the last 50 steps. */
function run(epsilon: number | null, steps = 200): { x: Float32Array; err: number; acc: PlainCompositionAccountant } {
  const lr = 0.1;
  const clip = 10; // models stay well inside: clipping never bites here
  const delta = 1e-5;
  const sigma = epsilon === null ? 0 : gaussianSigma({ epsilon, delta, sensitivity: clip, calibration: 'analytic' });
  const acc = new PlainCompositionAccountant();
  const x = new Float32Array(n * d);
  const half = Array.from({ length: n }, () => new Float32Array(d));
  const sent = Array.from({ length: n }, () => new Float32Array(d));
  let err = 0;
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) half[i]![k] = x[i * d + k]! - lr * (x[i * d + k]! - targets[i]![k]!);
      if (epsilon === null) {
        sent[i]!.set(half[i]!);
      } else {
        const noise = new Rng(6, 'dp', i, t);
        sent[i]!.set(half[i]!);
        privatize(sent[i]!, clip, sigma, () => noise.normal());
        if (i === 0) acc.record(epsilon, delta);
      }
    }
    // A node mixes its own exact model with its neighbours' noisy broadcasts.
    for (let i = 0; i < n; i++) {
      const vecs = Array.from(W.rowIndex[i]!, (j) => (j === i ? half[i]! : sent[j]!));
      mixRow(x.subarray(i * d, (i + 1) * d), W.rowWeight[i]!, vecs);
    }
    if (t >= steps - 50) {
      for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) err += (x[i * d + k]! - optimum[k]!) ** 2 / (50 * n);
    }
  }
  return { x, err, acc };
}

describe('differentially private consensus (cores)', () => {
  it('epsilon = infinity is the noise-free run bit for bit; the error grows as epsilon shrinks', () => {
    const free = run(null);
    const inf = run(Infinity);
    expect(Buffer.from(inf.x.buffer).equals(Buffer.from(free.x.buffer))).toBe(true);
    const errs = [100, 10, 1, 0.1].map((e) => run(e).err);
    for (let i = 1; i < errs.length; i++) expect(errs[i]!).toBeGreaterThan(errs[i - 1]!);
    expect(errs[0]!).toBeGreaterThan(free.err);
    const small = run(0.1);
    expect(small.acc.releases).toBe(200);
    expect(small.acc.epsilon).toBeCloseTo(20, 9);
    expect(small.acc.delta).toBeCloseTo(2e-3, 12);
  });

  it('the per-node mixing equals the stacked gossip step when nothing is private', () => {
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    const out = new Float32Array(n * d);
    gossipStep(W, x, d, out);
    const row = new Float32Array(d);
    for (let i = 0; i < n; i++) {
      mixRow(row, W.rowWeight[i]!, Array.from(W.rowIndex[i]!, (j) => x.subarray(j * d, (j + 1) * d)));
      expect(Array.from(row)).toEqual(Array.from(out.subarray(i * d, (i + 1) * d)));
    }
  });
});
