// Encoded optimization (Karakus et al. 2017): the gap to the least-squares solution when the
// master uses only the first k of n workers each step, per encoding and k. Not a speed benchmark:
// a measurement the papers report, printed and written as JSON like the others.
// Run: node --import tsx bench/encoded-gap.ts
import { symmetricEigen } from '../comm/linalg/symmetric-eigen.ts';
import { createEncoding, EncodedLeastSquares, type EncodingSpec } from '../src/coding/encoded/index.ts';
import { solveSquare } from '../src/coding/linalg.ts';
import { Rng } from '../src/util/rng.ts';
import { writeResult } from './bench-io.ts';

const N = 99; // 2N - 1 = 197 is a prime = 1 (mod 4): the Paley ETF exists
const P = 10;
const WORKERS = 6;
const STEPS = 1000;
const rng = new Rng(1, 'encoded-gap');
const x = Float64Array.from({ length: N * P }, () => rng.normal());
const wTrue = Float64Array.from({ length: P }, () => rng.normal());
const y = Float64Array.from({ length: N }, (_, r) => {
  let s = 0.5 * rng.normal();
  for (let c = 0; c < P; c++) s += x[r * P + c]! * wTrue[c]!;
  return s;
});
const g = new Float64Array(P * P);
const b = new Float64Array(P);
for (let r = 0; r < N; r++) {
  for (let i = 0; i < P; i++) {
    b[i] = b[i]! + x[r * P + i]! * y[r]!;
    for (let j = 0; j < P; j++) g[i * P + j] = g[i * P + j]! + x[r * P + i]! * x[r * P + j]!;
  }
}
const wStar = solveSquare(g, b, P)!;
const lmax = symmetricEigen(g, P).values[0]!;
const uncodedAll = new EncodedLeastSquares(x, y, N, P, WORKERS);
const fStar = uncodedAll.objective(wStar);
const wStarNorm = Math.hypot(...wStar);

const specs: [string, EncodingSpec][] = [
  ['uncoded', { kind: 'uncoded' }],
  ['gaussian(beta=2)', { kind: 'gaussian', beta: 2 }],
  ['hadamard(beta=256/99)', { kind: 'hadamard', beta: 256 / N }],
  ['etf-paley(beta=2)', { kind: 'etf', construction: 'paley' }],
];
const rows: Record<string, unknown>[] = [];
for (const [name, spec] of specs) {
  const enc = createEncoding(spec, N, 1);
  const lsq = enc ? new EncodedLeastSquares(enc.encode(x, P), enc.encode(y, 1), enc.rows, P, WORKERS) : uncodedAll;
  for (let k = WORKERS; k >= 2; k--) {
    const lr = (0.5 * (2 / WORKERS)) / lmax; // one step size for every k: stable down to k = 2
    const w = new Float64Array(P);
    const grad = new Float64Array(P);
    const order = Int32Array.from({ length: WORKERS }, (_, i) => i);
    const straggle = new Rng(7, 'arrivals');
    let gap = 0;
    let dist = 0;
    for (let t = 0; t < STEPS; t++) {
      straggle.shuffle(order);
      lsq.step(w, order.subarray(0, k), lr, grad);
      if (t >= STEPS - 200) {
        gap += uncodedAll.objective(w) / fStar - 1;
        let d = 0;
        for (let c = 0; c < P; c++) d += (w[c]! - wStar[c]!) ** 2;
        dist += Math.sqrt(d) / wStarNorm;
      }
    }
    rows.push({ encoding: name, k, n: WORKERS, relObjectiveGap: gap / 200, relDistanceToWStar: dist / 200 });
    process.stderr.write(`${name} k=${k}: f/f* - 1 = ${(gap / 200).toExponential(3)}, |w - w*|/|w*| = ${(dist / 200).toExponential(3)}\n`);
  }
}
writeResult('encoded-gap', {
  note: `least squares N=${N} rows, p=${P} features, ${WORKERS} workers; each step a seeded random k of ${WORKERS} blocks arrive; ${STEPS} GD steps; averages over the last 200; gap = f(w)/f(w*) - 1 with f the uncoded objective`,
  results: rows,
});
