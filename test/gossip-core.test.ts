import { describe, expect, it } from 'vitest';
import {
  averagingMatrix,
  ChocoGossip,
  consensusDistance,
  consensusDistanceOf,
  gossipStep,
  identityCompressor,
  metropolisHastings,
  mixingEigenvalues,
  mixRow,
  requireConnected,
  requireContraction,
  ringGraph,
  secondLargestEigenvalueModulus,
  uniformWeights,
  userMatrix,
  type DecodedCompressor,
  type MixingMatrix,
} from '../comm/gossip/index.ts';
import { symmetricEigen } from '../comm/linalg/symmetric-eigen.ts';
import { ParameterError } from '../comm/param-error.ts';
import { Rng } from '../src/util/rng.ts';

function randomStack(rng: Rng, n: number, d: number): Float32Array {
  return Float32Array.from({ length: n * d }, () => rng.normal());
}

/** A ring with chords i ~ i + 3 on even nodes: irregular degrees. */
function irregularGraph(n: number): number[][] {
  const adj = ringGraph(n).map((r) => [...r]);
  for (let i = 0; i + 3 < n; i += 2) {
    adj[i]!.push(i + 3);
    adj[i + 3]!.push(i);
  }
  return adj.map((r) => r.sort((a, b) => a - b));
}

describe('mixing matrices', () => {
  it('Metropolis-Hastings on a ring: one gossip step equals W x by hand', () => {
    const W = metropolisHastings(ringGraph(5));
    // Every degree is 2: W_ij = 1/(1 + 2) for neighbours and W_ii = 1 - 2/3 = 1/3.
    expect(W.at(0, 1)).toBe(1 / 3);
    expect(W.at(0, 4)).toBe(1 / 3);
    expect(W.at(0, 2)).toBe(0);
    // Two coordinates per worker: (3, 1), (0, 2), (6, 0), (0, 4), (9, -1).
    const x = Float32Array.from([3, 1, 0, 2, 6, 0, 0, 4, 9, -1]);
    const out = new Float32Array(10);
    gossipStep(W, x, 2, out);
    // worker 0: (x4 + x0 + x1)/3 = (12/3, 2/3); 1: (9/3, 3/3); 2: (6/3, 6/3); 3: (15/3, 3/3); 4: (12/3, 4/3).
    expect(Array.from(out)).toEqual([4, 2 / 3, 3, 1, 2, 2, 5, 1, 4, 4 / 3].map(Math.fround));
    // The per-worker kernel gives the same bits.
    const row = new Float32Array(2);
    mixRow(row, W.rowWeight[0]!, Array.from(W.rowIndex[0]!, (j) => x.subarray(2 * j, 2 * j + 2)));
    expect(Array.from(row)).toEqual(Array.from(out.subarray(0, 2)));
  });

  it('Metropolis-Hastings on a star of 4: 1/(1 + max degree) off the diagonal', () => {
    const W = metropolisHastings([[1, 2, 3], [0], [0], [0]]);
    expect(Array.from(W.w)).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.75, 0, 0, 0.25, 0, 0.75, 0, 0.25, 0, 0, 0.75]);
    const out = new Float32Array(4);
    gossipStep(W, Float32Array.from([4, 0, 8, 4]), 1, out);
    expect(Array.from(out)).toEqual([4, 1, 7, 4]);
  });

  it('the eigen-solver reproduces the ring spectrum (1 + 2 cos(2 pi k / n)) / 3', () => {
    for (const n of [3, 8, 25]) {
      const got = mixingEigenvalues(metropolisHastings(ringGraph(n)));
      const want = Array.from({ length: n }, (_, k) => (1 + 2 * Math.cos((2 * Math.PI * k) / n)) / 3).sort((a, b) => b - a);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-13);
    }
    expect(secondLargestEigenvalueModulus(metropolisHastings(ringGraph(8)))).toBeCloseTo((1 + Math.SQRT2) / 3, 13);
    // Eigenvectors: A V = V diag(values) for a random symmetric matrix.
    const rng = new Rng(1, 'eig');
    const n = 12;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, n, true);
    for (let c = 0; c < n; c++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[r * n + k]! * vectors![k * n + c]!;
        expect(Math.abs(s - values[c]! * vectors![r * n + c]!)).toBeLessThan(1e-12);
      }
    }
  });

  it("pure averaging's consensus distance decays at lambda^2 per step (lambda: second-largest eigenvalue modulus)", () => {
    const rng = new Rng(5, 'decay');
    for (const [name, W] of [
      ['ring 16', metropolisHastings(ringGraph(16))],
      ['irregular 20', metropolisHastings(irregularGraph(20))],
    ] as [string, MixingMatrix][]) {
      const lambda = secondLargestEigenvalueModulus(W);
      const d = 4;
      let x: Float32Array = randomStack(rng, W.n, d);
      let y: Float32Array = new Float32Array(x.length);
      const dist: number[] = [];
      for (let t = 0; t <= 80; t++) {
        dist.push(consensusDistance(x, W.n, d));
        gossipStep(W, x, d, y);
        [x, y] = [y, x];
      }
      const rate = Math.pow(dist[80]! / dist[60]!, 1 / 20);
      expect(Math.abs(rate / (lambda * lambda) - 1), name).toBeLessThan(0.05);
      // And the contraction bound holds at every step.
      for (let t = 0; t < 80; t++) expect(dist[t + 1]!).toBeLessThanOrEqual(lambda * lambda * dist[t]! * (1 + 1e-5));
    }
  });

  it('W = (1/n) 1 1^T averages in one step', () => {
    const rng = new Rng(2, 'avg');
    const x = randomStack(rng, 6, 3);
    const out = new Float32Array(18);
    gossipStep(averagingMatrix(6), x, 3, out);
    expect(consensusDistance(out, 6, 3)).toBeLessThan(1e-12);
    for (let k = 0; k < 3; k++) {
      let s = 0;
      for (let i = 0; i < 6; i++) s += x[i * 3 + k]!;
      expect(out[k]).toBeCloseTo(s / 6, 6);
    }
    expect(secondLargestEigenvalueModulus(averagingMatrix(6))).toBeLessThan(1e-12);
  });

  it('consensus distance by hand', () => {
    // (0, 1), (2, -1), (1, 0): mean (1, 0); squared deviations 2 + 2 + 0 = 4, over n = 3.
    const x = Float32Array.from([0, 1, 2, -1, 1, 0]);
    expect(consensusDistance(x, 3, 2)).toBe(4 / 3);
    expect(consensusDistanceOf([x.subarray(0, 2), x.subarray(2, 4), x.subarray(4, 6)])).toBe(4 / 3);
  });
});

describe('CHOCO-SGD consensus core', () => {
  /** One CHOCO round of every node on stacked x_half; returns the new x. */
  function chocoRound(nodes: ChocoGossip[], xHalf: Float32Array, d: number, gamma: number, q: DecodedCompressor): Float32Array {
    const n = nodes.length;
    const sent = nodes.map((node, i) => node.prepare(xHalf.subarray(i * d, (i + 1) * d), q).slice());
    for (const node of nodes) for (const j of node.neighbours) if (j !== node.node) node.receive(j, sent[j]!);
    const out = new Float32Array(n * d);
    nodes.forEach((node, i) => node.mix(xHalf.subarray(i * d, (i + 1) * d), gamma, out.subarray(i * d, (i + 1) * d)));
    return out;
  }
  const nodesFor = (W: MixingMatrix, d: number): ChocoGossip[] =>
    Array.from({ length: W.n }, (_, i) => new ChocoGossip(i, W.rowIndex[i]!, W.rowWeight[i]!, d));

  it('with the identity compressor and gamma = 1 it equals D-PSGD (x <- W (x - lr g)) step for step', () => {
    const rng = new Rng(9, 'choco');
    const W = metropolisHastings(irregularGraph(8));
    const d = 5;
    const targets = randomStack(rng, W.n, d);
    let xc = randomStack(rng, W.n, d);
    let xd = xc.slice();
    const nodes = nodesFor(W, d);
    const lr = 0.1;
    const localStep = (x: Float32Array): Float32Array => x.map((v, k) => v - lr * (v - targets[k]!)); // grad of 0.5||x - t||^2
    for (let t = 0; t < 30; t++) {
      xc = chocoRound(nodes, localStep(xc), d, 1, identityCompressor);
      const next = new Float32Array(xd.length);
      gossipStep(W, localStep(xd), d, next);
      xd = next;
      for (let k = 0; k < xd.length; k++) expect(Math.abs(xc[k]! - xd[k]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(xd[k]!)));
    }
  });

  it('with top-k compression (lr 0) it keeps the average and reaches consensus', () => {
    const rng = new Rng(4, 'choco-topk');
    const W = metropolisHastings(ringGraph(10));
    const d = 20;
    const topk: DecodedCompressor = (delta, out) => {
      // keep the 4 largest |delta_k| (ties: lower index), zero the rest
      out.fill(0);
      const order = Array.from(delta.keys()).sort((a, b) => Math.abs(delta[b]!) - Math.abs(delta[a]!) || a - b);
      for (const k of order.slice(0, 4)) out[k] = delta[k]!;
    };
    let x = randomStack(rng, W.n, d);
    const mean0 = Array.from({ length: d }, (_, k) => Array.from({ length: W.n }, (_, i) => x[i * d + k]!).reduce((a, b) => a + b) / W.n);
    const d0 = consensusDistance(x, W.n, d);
    const nodes = nodesFor(W, d);
    for (let t = 0; t < 400; t++) x = chocoRound(nodes, x, d, 0.2, topk);
    expect(consensusDistance(x, W.n, d)).toBeLessThan(1e-4 * d0);
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < W.n; i++) s += x[i * d + k]!;
      expect(Math.abs(s / W.n - mean0[k]!)).toBeLessThan(1e-5);
    }
  });
});

describe('bad mixing input', () => {
  it('is refused with a ParameterError naming the key', () => {
    const star = [[1, 2, 3], [0], [0], [0]];
    expect(() => uniformWeights(star)).toThrow(/mixing: expected uniform weights .* found node 0 has degree 3, its neighbour 1 degree 1/);
    expect(() => uniformWeights(ringGraph(6))).not.toThrow();
    const ring4 = ringGraph(4);
    const ok = [
      [0.5, 0.25, 0, 0.25],
      [0.25, 0.5, 0.25, 0],
      [0, 0.25, 0.5, 0.25],
      [0.25, 0, 0.25, 0.5],
    ];
    expect(() => userMatrix(ok, ring4)).not.toThrow();
    const rowBad = ok.map((r) => [...r]);
    rowBad[2]![2] = 0.6;
    expect(() => userMatrix(rowBad, ring4)).toThrow(/mixing.weights\[2\]: expected a doubly stochastic matrix: row 2 summing to 1/);
    const asym = ok.map((r) => [...r]);
    asym[0]![1] = 0.3;
    asym[0]![0] = 0.45;
    expect(() => userMatrix(asym, ring4)).toThrow(/mixing.weights\[0\]\[1\]: expected a symmetric matrix/);
    // Symmetric within the tolerance but one side exactly 0: 1 would wait for a message 0 never sends.
    const halfZero = ok.map((r) => [...r]);
    halfZero[0]![1] = 0;
    halfZero[1]![0] = 5e-7;
    halfZero[0]![0] = 0.75;
    halfZero[1]![1] = 0.5 - 5e-7 + 0.25;
    expect(() => userMatrix(halfZero, ring4)).toThrow(/mixing.weights\[0\]\[1\]: expected 0 exactly when \[1\]\[0\] is 0/);
    const offGraph = ok.map((r) => [...r]);
    offGraph[0]![2] = 0.1;
    expect(() => userMatrix(offGraph, ring4)).toThrow(/mixing.weights\[0\]\[2\]: expected 0 \(workers 0 and 2 are not neighbours\), found 0.1/);
    expect(() => requireConnected([[1], [0], [3], [2]])).toThrow(/topology: expected a connected graph for gossip, found 2 components \{0, 1\} \{2, 3\}/);
    expect(() => metropolisHastings([[1], []])).toThrow(ParameterError);
    const identity = userMatrix([[1, 0], [0, 1]], [[1], [0]]);
    expect(() => requireContraction(identity)).toThrow(/mixing: expected a mixing matrix whose second-largest eigenvalue modulus is below 1/);
  });
});
