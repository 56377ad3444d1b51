import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../comm/linalg/symmetric-eigen.ts';
import { EncodedLeastSquares, gaussianEncoding, HadamardEncoding, paleyEtfEncoding, splitRows } from '../src/coding/encoded/index.ts';
import { augmentedRows, encodedBlockFor } from '../optimizers/encoded-optimization/encoded-data.ts';
import type { EncodedOptimizationConfig } from '../optimizers/encoded-optimization/config.ts';
import { solveSquare } from '../src/coding/linalg.ts';
import { loadConfig, loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { makeSynthetic } from '../src/train/data/synthetic.ts';
import { UserError } from '../src/util/user-error.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';

/*
 * encoded-optimization end to end: 6 workers on a star, linear regression on 51 synthetic rows
 * with 5 features (p = 6 with the bias), so the Paley ETF exists (2*51 - 1 = 101 = 1 mod 4) and
 * the Hadamard encoding has M = 64 (beta = 64/51).
 */
const N = 51;
const WORKERS = 6;
const HADAMARD = `hadamard, beta: ${64 / N}`;

function yaml(optimizer: string, extra = '', train = '{ steps: 150, evalEvery: 75 }'): string {
  return `name: eo-test
seed: 4
workers: ${WORKERS}
data: { dataset: linear, samples: ${N}, testSamples: 200, features: 5, batchSize: 8, noise: 0.5 }
model: { kind: linear }
optimizer: ${optimizer}
topology: { kind: star }
network: { bandwidth: 1 Gb/s, latency: 100 us }
compute: { speed: 100 MFLOP/s }
train: ${train}
${extra}
`;
}

async function run(optimizer: string, extra = '', transport = 'inproc', train?: string) {
  const dir = tmp();
  const file = join(dir, 'exp.yaml');
  writeFileSync(file, yaml(optimizer, `${extra}\ntransport: { kind: ${transport} }`, train));
  const out = join(dir, 'run');
  await runExperiment(loadConfig(file), { outDir: out });
  const lines = metrics(out);
  return {
    dir: out,
    losses: lines.filter((l) => l['kind'] === 'train').map((l) => l['loss'] as number),
    evalLosses: lines.filter((l) => l['kind'] === 'eval').map((l) => l['evalLoss'] as number),
    summary: json<{ finalTrainLoss: number; finalLoss: number; simTimeSec: number; timeToTarget: unknown }>(join(out, 'summary.json')),
  };
}

/**
 * The data set the runs train on ([X 1], y) and the optimum of f(w) = ||X w - y||^2 / N +
 * (ridge/2) ||w||^2 (normal equations (2/N) X^T X + ridge I).
 */
function leastSquaresOptimum(ridge = 0): number {
  const ds = makeSynthetic({ kind: 'linear', samples: N, testSamples: 200, features: 5, classes: 0, noise: 0.5 }, 4);
  const p = 6;
  const g = new Float64Array(p * p);
  const b = new Float64Array(p);
  const row = new Float64Array(p);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < 5; c++) row[c] = ds.train.x[r * 5 + c]!;
    row[5] = 1;
    for (let i = 0; i < p; i++) {
      b[i] = b[i]! + row[i]! * ds.train.y[r]!;
      for (let j = 0; j < p; j++) g[i * p + j] = g[i * p + j]! + row[i]! * row[j]!;
    }
  }
  for (let i = 0; i < p; i++) g[i * p + i] = g[i * p + i]! + (ridge * N) / 2;
  const w = solveSquare(g, b, p)!;
  let f = 0;
  for (let r = 0; r < N; r++) {
    let s = -ds.train.y[r]! + w[5]!;
    for (let c = 0; c < 5; c++) s += ds.train.x[r * 5 + c]! * w[c]!;
    f += s * s;
  }
  return f / N + (ridge / 2) * w.reduce((a, v) => a + v * v, 0);
}

/** epsilon with (1 - eps) I <= S_A^T S_A n/k <= (1 + eps) I over every k-subset A of the blocks. */
function worstEpsilon(s: Float64Array, m: number, n: number, workers: number, k: number): number {
  const bounds = new EncodedLeastSquares(new Float64Array(m), new Float64Array(m), m, 1, workers).bounds;
  const subsets = (from: number, size: number): number[][] =>
    size === 0 ? [[]] : from < size ? [] : [...subsets(from - 1, size), ...subsets(from - 1, size - 1).map((a) => [...a, from - 1])];
  let eps = 0;
  for (const a of subsets(workers, k)) {
    const g = new Float64Array(n * n);
    for (const b of a) {
      for (let r = bounds[b]!; r < bounds[b + 1]!; r++) {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = g[i * n + j]! + (s[r * n + i]! * s[r * n + j]! * workers) / k;
      }
    }
    const ev = symmetricEigen(g, n).values;
    eps = Math.max(eps, Math.abs(ev[0]! - 1), Math.abs(1 - ev[n - 1]!));
  }
  return eps;
}

const close = (a: number[], b: number[], tol: number) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!))));
};

describe('encoded-optimization: the workers\' blocks', () => {
  it('are the rows of S [X 1 y] split over the workers (gaussian drawn without storing S, hadamard, replication)', () => {
    const ds = makeSynthetic({ kind: 'linear', samples: 40, testSamples: 1, features: 3, classes: 0, noise: 0.5 }, 9);
    const data = { n: 40, inputSize: 3, inputScale: 1, classes: 0, x: ds.train.x, y: ds.train.y, batchSize: 8 };
    const aug = augmentedRows(data);
    const xy = new Float64Array(40 * 5);
    for (let i = 0; i < 40; i++) {
      xy.set(aug.x.subarray(i * 4, i * 4 + 4), i * 5);
      xy[i * 5 + 4] = aug.y[i]!;
    }
    const cfg = (encoding: EncodedOptimizationConfig['encoding'], beta: number): EncodedOptimizationConfig => ({ k: 3, encoding, beta, method: 'gd', lr: 0.1, ridge: 0 });
    for (const [c, full] of [
      [cfg('gaussian', 1.5), gaussianEncoding(40, 1.5, 7).encode(xy, 5)],
      [cfg('hadamard', 64 / 40), new HadamardEncoding(40, 64 / 40, 7).encode(xy, 5)],
    ] as const) {
      const m = full.length / 5;
      const bounds = splitRows(m, 5);
      for (let w = 0; w < 5; w++) {
        const b = encodedBlockFor(c, data, 5, w, 7);
        expect(b.rows).toBe(bounds[w + 1]! - bounds[w]!);
        for (let r = 0; r < b.rows; r++) {
          for (let j = 0; j < 4; j++) expect(b.x[r * 4 + j]).toBeCloseTo(full[(bounds[w]! + r) * 5 + j]!, 12);
          expect(b.y[r]).toBeCloseTo(full[(bounds[w]! + r) * 5 + 4]!, 12);
        }
      }
    }
    // Replication, beta 2 over 6 workers: workers r and r + 3 hold partition r of 3.
    const rep = (w: number) => encodedBlockFor(cfg('replication', 2), data, 6, w, 7);
    for (let w = 0; w < 3; w++) expect(Array.from(rep(w + 3).x)).toEqual(Array.from(rep(w).x));
    expect(rep(0).rows + rep(1).rows + rep(2).rows).toBe(40);
  });
});

describe('encoded-optimization (algorithm)', () => {
  const delays = 'stragglers: { delay: { kind: shifted-exponential, shift: 1 ms, mean: 5 ms } }';
  let uncodedAll: Awaited<ReturnType<typeof run>> | null = null;

  it('k = n with an orthonormal encoding (Hadamard, Paley and harmonic ETF) equals uncoded gradient descent to 1e-6, every step', async () => {
    const none = (uncodedAll = await run(`{ kind: encoded-optimization, k: ${WORKERS}, encoding: none, lr: 0.2 }`, delays));
    for (const enc of [HADAMARD, 'etf', 'etf, construction: harmonic']) {
      const coded = await run(`{ kind: encoded-optimization, k: ${WORKERS}, encoding: ${enc}, lr: 0.2 }`, delays);
      close(coded.losses, none.losses, 1e-6);
      close(coded.evalLosses, none.evalLosses, 1e-6);
    }
    // And it has converged: f(w) = f(w*) to 1e-6.
    expect(none.summary.finalTrainLoss / leastSquaresOptimum() - 1).toBeLessThan(1e-6);
  });

  it('L-BFGS with k = n: encoded equals uncoded to 1e-6 and reaches f(w*) within 1e-6 in 20 steps; with ridge, the ridge optimum', async () => {
    const lb = (enc: string) => run(`{ kind: encoded-optimization, k: ${WORKERS}, encoding: ${enc}, method: lbfgs, lr: 1 }`, '', 'inproc', '{ steps: 20, evalEvery: 10 }');
    const [none, etf] = [await lb('none'), await lb('etf')];
    close(etf.losses, none.losses, 1e-6);
    expect(etf.summary.finalTrainLoss / leastSquaresOptimum() - 1).toBeLessThan(1e-6);
    // Ridge: the reported loss is f(w) + (ridge/2)||w||^2, and its minimum is reached.
    const ridge = await lb('hadamard, beta: 64/51, ridge: 0.5'.replace('64/51', String(64 / N)));
    expect(ridge.summary.finalTrainLoss / leastSquaresOptimum(0.5) - 1).toBeLessThan(1e-6);
    expect(ridge.summary.finalTrainLoss / leastSquaresOptimum() - 1).toBeGreaterThan(1e-3);
  });

  it('k < n under random stragglers: the ETF run stays within kappa^2 f(w*) and beats uncoded; the gap grows as k shrinks', async () => {
    const fStar = leastSquaresOptimum();
    const s = paleyEtfEncoding(N).dense();
    // Mean of f(w_t)/f* - 1 over the last 50 steps (the iterate moves with the arriving set).
    const gapOf = (losses: number[]) => losses.slice(-50).reduce((a, l) => a + l / fStar - 1, 0) / 50;
    const gaps: Record<string, number[]> = { etf: [], none: [] };
    for (const k of [5, 4, 3]) {
      const etf = await run(`{ kind: encoded-optimization, k: ${k}, encoding: etf, lr: 0.2 }`, delays);
      const none = await run(`{ kind: encoded-optimization, k: ${k}, encoding: none, lr: 0.2 }`, delays);
      gaps['etf']!.push(gapOf(etf.losses));
      gaps['none']!.push(gapOf(none.losses));
      const eps = worstEpsilon(s, 2 * N, N, WORKERS, k);
      const kappa = (1 + eps) / (1 - eps);
      for (const l of etf.losses.slice(-50)) expect(l).toBeLessThanOrEqual(kappa * kappa * fStar);
    }
    // Measured (README): etf 4.4e-3, 9.8e-3, 2.03e-2; uncoded 5.5e-3, 1.26e-2, 2.71e-2 for k = 5, 4, 3.
    gaps['etf']!.forEach((g, i) => expect(g).toBeLessThan(gaps['none']![i]!));
    for (const key of ['etf', 'none']) {
      const g = gaps[key]!;
      expect(g[0]!).toBeGreaterThan(1e-5);
      expect(g[1]!).toBeGreaterThan(g[0]!);
      expect(g[2]!).toBeGreaterThan(g[1]!);
    }
    console.log('encoded-optimization gap f/f*-1 by k = 5, 4, 3:', JSON.stringify(gaps));
  });

  it('replication (beta = 2) with k = n equals uncoded; the master drops the second copies', async () => {
    const rep = await run(`{ kind: encoded-optimization, k: ${WORKERS}, encoding: replication, beta: 2, lr: 0.2 }`, delays);
    const none = uncodedAll ?? (await run(`{ kind: encoded-optimization, k: ${WORKERS}, encoding: none, lr: 0.2 }`, delays));
    // Three partitions of 17 rows against six blocks of 8-9 rows: the same gradient, other sums.
    close(rep.evalLosses, none.evalLosses, 1e-6);
  });

  it('identical metrics over ws and in process (k < n, random stragglers)', async () => {
    const opt = `{ kind: encoded-optimization, k: 4, encoding: ${HADAMARD}, lr: 0.2 }`;
    const a = await run(opt, delays, 'inproc', '{ steps: 10, evalEvery: 5 }');
    const b = await run(opt, delays, 'ws', '{ steps: 10, evalEvery: 5 }');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
  });

  it('reaches its target with the required keys only (defaults: hadamard, beta 2, gd, lr 0.1)', async () => {
    const dir = tmp();
    const file = join(dir, 'exp.yaml');
    writeFileSync(
      file,
      yaml('{ kind: encoded-optimization, k: 5 }', `${delays}\ntransport: { kind: inproc }`, '{ steps: 60, evalEvery: 20, target: { loss: 0.4 } }').replace(`samples: ${N},`, 'samples: 64,'),
    );
    const out = join(dir, 'run');
    await runExperiment(loadConfig(file), { outDir: out });
    const summary = json<{ timeToTarget: { step: number } | null }>(join(out, 'summary.json'));
    expect(summary.timeToTarget).not.toBeNull();
  });

  it('bad input: one located line, exit code 2', () => {
    const bad = (optimizer: string, samples = N, data = 'dataset: linear', model = 'linear'): string => {
      const text = yaml(optimizer).replace(`samples: ${N},`, `samples: ${samples},`).replace('dataset: linear', data).replace('kind: linear }', `kind: ${model} }`);
      try {
        loadConfigText('exp.yaml', text);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).exitCode).toBe(2);
        const msg = (e as Error).message;
        expect(msg.split('\n')).toHaveLength(1);
        return msg;
      }
      throw new Error(`accepted: ${optimizer}`);
    };
    expect(bad('{ kind: encoded-optimization, k: 7 }')).toMatch(/exp\.yaml:\d+:\d+: optimizer\.k: expected k <= workers \(6\), found 7/);
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 0.5 }')).toMatch(/exp\.yaml:\d+:\d+: optimizer\.beta/);
    // Paley needs 2N - 1 prime = 1 (mod 4): N = 50 gives 99.
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: etf }', 50)).toMatch(/data\.samples: expected a data size N with 2N - 1 a prime = 1 \(mod 4\) .*e\.g\. .*51.*found 50/);
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: hadamard, beta: 2 }', 50)).toMatch(/optimizer\.beta: expected beta \* N a power of two/);
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: replication, beta: 4 }')).toMatch(/optimizer\.beta: expected an integer number of copies dividing workers \(6\)/);
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: etf, beta: 2 }')).toMatch(/optimizer\.beta: does not apply with encoding etf/);
    expect(bad('{ kind: encoded-optimization, k: 3 }', N, 'dataset: logistic', 'mlp')).toMatch(/model\.kind: expected linear \(least squares\) or logistic .* found mlp/);
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: replication }', N, 'dataset: logistic', 'logistic')).toMatch(/optimizer\.encoding: expected hadamard, gaussian, etf or none with a logistic model/);
    // The classifier encodes its 5 + 1 parameters per class: Paley needs 2N - 1 prime = 1 (mod 4).
    expect(bad('{ kind: encoded-optimization, k: 3, encoding: etf }', N, 'dataset: logistic', 'logistic')).toMatch(/data\.features: expected a data size N with 2N - 1 a prime .* found 5 features/);
    expect(bad('{ kind: encoded-optimization, encoding: none }')).toMatch(/optimizer/);
    expect(bad('{ kind: encoded-optimization, k: 3 }', N, 'dataset: fashion-mnist')).toMatch(/data\.dataset: expected synthetic .* found dataset fashion-mnist$/);
    expect(bad('{ kind: encoded-optimization, k: 3 }', N, 'format: npy, train: { x: x.npy, y: y.npy }, test: { x: x.npy, y: y.npy }')).toMatch(/data\.format: expected synthetic .* found format npy$/);
  });
});

describe('encoded-optimization, model parallel (logistic regression)', () => {
  const text = (optimizer: string, steps: number) => `name: eo-logistic
seed: 4
workers: 6
data: { dataset: logistic, samples: 600, testSamples: 300, features: 20, batchSize: 20 }
model: { kind: logistic }
optimizer: ${optimizer}
topology: { kind: star }
network: { bandwidth: 1 Gb/s, latency: 100 us }
compute: { speed: 100 MFLOP/s }
stragglers: { delay: { kind: shifted-exponential, shift: 1 ms, mean: 5 ms } }
transport: { kind: inproc }
train: { steps: ${steps}, evalEvery: 10, target: { accuracy: 0.85 } }
`;
  const runText = async (optimizer: string, steps: number, transport = 'inproc') => {
    const dir = tmp();
    const out = join(dir, 'run');
    await runExperiment(loadConfigText(join(dir, 'exp.yaml'), text(optimizer, steps).replace('kind: inproc', `kind: ${transport}`)), { outDir: out });
    const lines = metrics(out);
    return {
      losses: lines.filter((l) => l['kind'] === 'train').map((l) => l['loss'] as number),
      evalLosses: lines.filter((l) => l['kind'] === 'eval').map((l) => l['evalLoss'] as number),
      summary: json<{ timeToTarget: { step: number } | null; finalAccuracy: number }>(join(out, 'summary.json')),
      dir: out,
    };
  };

  it('k = n: the Paley-ETF-encoded parameters follow uncoded gradient descent to 1e-6 (N = 21 per class: Paley prime 41)', async () => {
    const none = await runText('{ kind: encoded-optimization, k: 6, encoding: none, lr: 1 }', 30);
    const etf = await runText('{ kind: encoded-optimization, k: 6, encoding: etf, lr: 1 }', 30);
    close(etf.losses, none.losses, 1e-6);
    close(etf.evalLosses, none.evalLosses, 1e-6);
  });

  it('k = 3 of 6 under random stragglers (block coordinate descent on the encoded parameters) reaches 85% test accuracy', async () => {
    const r = await runText('{ kind: encoded-optimization, k: 3, encoding: etf, lr: 1 }', 60);
    expect(r.summary.timeToTarget).not.toBeNull();
  });

  it('identical metrics over ws and in process', async () => {
    const a = await runText('{ kind: encoded-optimization, k: 4, encoding: etf, lr: 1 }', 8);
    const b = await runText('{ kind: encoded-optimization, k: 4, encoding: etf, lr: 1 }', 8, 'ws');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
  });
});
