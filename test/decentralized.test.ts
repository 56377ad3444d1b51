import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES } from '../comm/compress/wire-format.ts';
import { metropolisHastings, uniformWeights } from '../comm/gossip/mixing-matrix.ts';
import { mixingRow } from '../comm/gossip/mixing-row.ts';
import { secondLargestEigenvalueModulus } from '../comm/gossip/spectral.ts';
import { ringGraph } from '../comm/gossip/graph.ts';
import { runDpsgd, type DpsgdConfig } from '../optimizers/dpsgd/worker.ts';
import { MessagePrivacy } from '../optimizers/common/gossip-privacy.ts';
import { analyticGaussianSigma } from '../comm/privacy/gaussian-mechanism.ts';
import type { EvalReport, StepReport, WorkerReport } from '../optimizers/worker-context.ts';
import { loadConfig, loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { buildTopology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';
import { cliInProcess } from './helpers/cli-inprocess.ts';
import { inprocNet } from './helpers/inproc-net.ts';
import { scriptedContext } from './helpers/scripted-workers.ts';

const LINK = { bandwidth: 1e9, latency: 1e-4 };

describe("a gossip worker's message mechanism", () => {
  it('clips to the norm and adds noise whose std over 1e5 coordinates is the analytic sigma for sensitivity 2 clip (within 5%)', () => {
    const m = new MessagePrivacy({ epsilon: 2, delta: 1e-5, clip: 0.5, calibration: 'analytic' }, 11, 3);
    expect(m.sigma).toBe(analyticGaussianSigma(2, 1e-5, 1));
    const x = new Float32Array(100000);
    m.apply(x);
    let s = 0;
    for (const v of x) s += v * v;
    expect(Math.abs(Math.sqrt(s / x.length) / m.sigma - 1)).toBeLessThan(0.05);
    const big = new Float32Array([30, 40]);
    new MessagePrivacy({ epsilon: 'inf', delta: 1e-5, clip: 0.5, calibration: 'analytic' }, 11, 3).apply(big);
    expect(Array.from(big)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    expect(m.spent(200)).toEqual({ privacyEpsilon: 400, privacyDelta: 200 * 1e-5 });
  });
});

describe('neighbour graphs and sparse mixing rows', () => {
  it('ring, torus and graph neighbours are their direct links; hierarchical: groups as cliques joined by gateways; star has none', () => {
    expect(gossipNeighbours(buildTopology('ring', 5, LINK))).toEqual([[1, 4], [0, 2], [1, 3], [2, 4], [0, 3]]);
    expect(gossipNeighbours(buildTopology('torus', 6, LINK, { dims: [3, 2] }))).toEqual([[1, 2, 3], [0, 2, 4], [0, 1, 5], [0, 4, 5], [1, 3, 5], [2, 3, 4]]);
    expect(gossipNeighbours(buildTopology('graph', 4, LINK, { edges: [{ a: 0, b: 1 }, { a: 1, b: 2 }, { a: 1, b: 3 }] }))).toEqual([[1], [0, 2, 3], [1], [1]]);
    expect(gossipNeighbours(buildTopology('hierarchical', 6, LINK, { groups: [2, 3, 1] }))).toEqual([[1, 2, 5], [0], [0, 3, 4, 5], [2, 4], [2, 3], [0, 2]]);
    expect(gossipNeighbours(buildTopology('star', 4, LINK))).toBeNull();
  });

  it("a worker's sparse row equals the dense matrix's row bit for bit (Metropolis-Hastings on an irregular graph, uniform on a ring)", () => {
    const adj = gossipNeighbours(buildTopology('graph', 7, LINK, { generate: { kind: 'erdos-renyi', p: 0.5, seed: 3 } }))!;
    const mh = metropolisHastings(adj);
    const uni = uniformWeights(ringGraph(6));
    for (let i = 0; i < 7; i++) {
      const r = mixingRow('metropolis-hastings', adj, i);
      expect(Array.from(r.index)).toEqual(Array.from(mh.rowIndex[i]!));
      expect(Array.from(r.weight)).toEqual(Array.from(mh.rowWeight[i]!));
    }
    for (let i = 0; i < 6; i++) expect(Array.from(mixingRow('uniform', ringGraph(6), i).weight)).toEqual(Array.from(uni.rowWeight[i]!));
  });
});

/**
 * dpsgd's worker loop on n in-process endpoints of a ring, with a scripted oracle: worker r's
 * gradient is the fixed vector -v_r (so with lr 1 its local step adds v_r) and its initial model
 * may differ from the others' (no real model: this checks the algorithm's arithmetic and wire).
 * With `evaluate: each`, rank 0 evaluates the average and then every worker's model: recorded.
 */
async function scriptedDpsgd(n: number, steps: number, init: (r: number) => Float32Array, v: (r: number) => Float32Array, lr: number, overlap = false) {
  const { eps } = inprocNet(n, 'ring', LINK.bandwidth, LINK.latency);
  const adj = gossipNeighbours(buildTopology('ring', n, LINK));
  const reports: WorkerReport[] = [];
  const evaluated: Float32Array[] = [];
  const cfg: DpsgdConfig = { lr, momentum: 0, nesterov: false, weightDecay: 0, schedule: { kind: 'constant', every: 1, gamma: 1, minLr: 0, warmup: 0 }, mixing: 'metropolis-hastings', evaluate: 'each', overlap };
  await Promise.all(
    eps.map((ep, r) => {
      const ctx = scriptedContext({
        rank: r,
        workers: n,
        ep,
        steps,
        initialParams: init(r),
        push: () => v(r),
        evaluated,
        extra: {
          report: (x: WorkerReport) => reports.push(x),
          neighbours: () => adj,
          reportStep: (step: number, loss: number, compute: number, delay: number, comm: number) =>
            reports.push({ type: 'step', rank: r, step, loss, simTime: ep.now, compute, delay, comm, bytesSent: ep.stats.bytesSent, wallTime: 0, gradWallSec: 0, gradCpuSec: 0 }),
        },
      });
      return runDpsgd(ctx, cfg);
    }),
  );
  return { reports, evaluated, eps };
}

describe('dpsgd through its worker loop (scripted gradients)', () => {
  it('one step on a ring with Metropolis-Hastings W (1/3 each) is W x_half by hand; bits and time of two neighbour messages', async () => {
    const n = 5;
    const d = 3;
    const v = (r: number) => Float32Array.from([r + 1, (r * r) % 7, -2 * r]);
    const { evaluated, reports, eps } = await scriptedDpsgd(n, 1, () => new Float32Array(d), v, 1);
    // x_half_i = 0 + 1 * v_i; x_i = (x_half_{i-1} + x_half_i + x_half_{i+1}) / 3.
    expect(evaluated).toHaveLength(n + 1);
    for (let i = 0; i < n; i++) {
      const byHand = [0, 1, 2].map((k) => (v((i + n - 1) % n)[k]! + v(i)[k]! + v((i + 1) % n)[k]!) / 3);
      const got = Array.from(evaluated[i + 1]!);
      got.forEach((x, k) => expect(Math.abs(x - byHand[k]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(byHand[k]!))));
    }
    // The average model is the mean of x_half (W is doubly stochastic).
    for (let k = 0; k < d; k++) expect(evaluated[0]![k]!).toBeCloseTo([0, 1, 2, 3, 4].reduce((s, r) => s + v(r)[k]!, 0) / n, 5);
    const payload = HEADER_BYTES + 4 * d;
    for (const r of reports.filter((x): x is StepReport => x.type === 'step')) {
      expect(r.bytesSent).toBe(2 * payload);
      // Compute, then both neighbours' messages on their own links: a + 8m/B.
      expect(r.simTime).toBeCloseTo(1e-3 + LINK.latency + (8 * payload) / LINK.bandwidth, 15);
    }
    expect(eps.every((ep) => ep.stats.messagesSent === 2)).toBe(true);
  });

  it("overlap (Lian et al.'s order): the gradient at x_t is applied after mixing x_t, and the messages travel while it is computed", async () => {
    const n = 5;
    const d = 3;
    const v = (r: number) => Float32Array.from([r + 1, (r * r) % 7, -2 * r]);
    const { evaluated, reports } = await scriptedDpsgd(n, 2, () => new Float32Array(d), v, 1, true);
    // Step 1: x = W 0 + v_i; step 2: x = W v + v_i. Rank 0 evaluates the average, then each worker.
    const step2 = evaluated.slice(n + 2);
    for (let i = 0; i < n; i++) {
      const byHand = [0, 1, 2].map((k) => (v((i + n - 1) % n)[k]! + v(i)[k]! + v((i + 1) % n)[k]!) / 3 + v(i)[k]!);
      Array.from(step2[i]!).forEach((x, k) => expect(Math.abs(x - byHand[k]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(byHand[k]!))));
    }
    // A message (a + 8m/B = 0.1 ms) is shorter than the 1 ms computation: no waiting at all.
    for (const r of reports.filter((x): x is StepReport => x.type === 'step')) {
      expect(r.comm).toBe(0);
      expect(r.simTime).toBeCloseTo(r.step * 1e-3, 15);
    }
  });

  it("pure averaging (lr 0): the consensus distance of the eval lines decays at lambda_2^2 per step, within 5%", async () => {
    const n = 8;
    const d = 4;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const inits = Array.from({ length: n }, () => Float32Array.from({ length: d }, rand));
    const { reports } = await scriptedDpsgd(n, 40, (r) => inits[r]!, () => new Float32Array(d), 0);
    const dist = reports.filter((x): x is EvalReport => x.type === 'eval').map((e) => e.extra!['consensusDistance'] as number);
    expect(dist).toHaveLength(40);
    const lambda = secondLargestEigenvalueModulus(metropolisHastings(ringGraph(n)));
    // Steps 20..40: past the start's faster modes, well above float32 rounding (rate^40 ~ 3e-8).
    const rate = Math.pow(dist[39]! / dist[19]!, 1 / 20);
    expect(Math.abs(rate / (lambda * lambda) - 1)).toBeLessThan(0.05);
  });
});

function experiment(dir: string, optimizer: string, topology: string, extra = ''): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: gossip-test
seed: 3
workers: 4
data: { dataset: logistic, samples: 2000, testSamples: 400, features: 20, batchSize: 16 }
model: { kind: logistic }
optimizer: ${optimizer}
topology: ${topology}
network: { bandwidth: 100 Mb/s, latency: 1 ms }
train: { steps: 24, evalEvery: 8 }
${extra}
`,
  );
  return file;
}

async function run(optimizer: string, topology: string, extra = 'transport: { kind: inproc }') {
  const dir = tmp();
  const out = join(dir, 'run');
  await runExperiment(loadConfig(experiment(dir, optimizer, topology, extra)), { outDir: out });
  const lines = metrics(out);
  return {
    out,
    losses: lines.filter((l) => l['kind'] === 'train').map((l) => l['loss'] as number),
    evals: lines.filter((l) => l['kind'] === 'eval'),
    summary: json<Record<string, unknown>>(join(out, 'summary.json')),
  };
}

const COMPLETE4 = '{ kind: graph, links: [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]] }';

describe('dpsgd and choco-sgd end to end', () => {
  it('dpsgd with W = 11^T/n on a complete graph follows allreduce-sgd (same model up to float32 summation order)', async () => {
    const g = await run('{ kind: dpsgd, lr: 0.5, momentum: 0.5, mixing: averaging }', COMPLETE4);
    const a = await run('{ kind: allreduce-sgd, lr: 0.5, momentum: 0.5 }', '{ kind: ring }');
    g.losses.forEach((l, i) => expect(Math.abs(l - a.losses[i]!)).toBeLessThan(1e-6 * a.losses[i]!));
    expect(g.evals.map((e) => e['evalAccuracy'])).toEqual(a.evals.map((e) => e['evalAccuracy']));
    // Every worker ends each step with the same model: consensus is exact.
    for (const e of g.evals) expect(e['consensusDistance']).toBe(0);
  });
});

describe('choco-sgd, privacy and transports', () => {
  let ring: Awaited<ReturnType<typeof run>> | null = null;
  const dpsgdRing = async () => (ring ??= await run('{ kind: dpsgd, lr: 0.5 }', '{ kind: ring }'));

  it('choco-sgd with compressor none and gamma 1 follows dpsgd (x_hat + (x_half - x_hat) may differ from x_half by an ulp); same bits and times', async () => {
    const c = await run('{ kind: choco-sgd, lr: 0.5, gamma: 1, compressor: { kind: none } }', '{ kind: ring }');
    const d = await dpsgdRing();
    c.losses.forEach((l, i) => expect(Math.abs(l - d.losses[i]!)).toBeLessThan(1e-6 * d.losses[i]!));
    const strip = (e: Record<string, unknown>) => ({ ...e, wallTimeSec: 0, evalLoss: 0, consensusDistance: 0 });
    expect(c.evals.map(strip)).toEqual(d.evals.map(strip));
    c.evals.forEach((e, i) => expect(e['evalLoss'] as number).toBeCloseTo(d.evals[i]!['evalLoss'] as number, 5));
  });

  it('privacy with epsilon inf and a clip no message reaches is the noise-free run, metric for metric', async () => {
    const p = await run('{ kind: dpsgd, lr: 0.5, privacy: { epsilon: inf, clip: 1e9 } }', '{ kind: ring }');
    const d = await dpsgdRing();
    expect(deterministicMetrics(p.out)).toEqual(deterministicMetrics(d.out));
    expect(p.summary['privacy']).toMatchObject({ sigma: 0, perStep: { epsilon: 'inf', delta: 1e-5 }, cumulative: { epsilon: 'inf', steps: 24 } });
    // Metropolis-Hastings on a ring of 4 is the circulant (1/3)(1, 1, 0, 1): eigenvalues 1, 1/3, 1/3, -1/3.
    expect(p.summary['gossip']).toMatchObject({ mixing: 'metropolis-hastings', edges: 4, degree: { min: 2, max: 2 } });
    expect((p.summary['gossip'] as { lambda2: number }).lambda2).toBeCloseTo(1 / 3, 12);
  });

  it('identical metrics over ws and in process: dpsgd (overlapped) on a torus, private choco-sgd (sign-top-k) on a graph', async () => {
    for (const [opt, topo] of [
      ['{ kind: dpsgd, lr: 0.5, momentum: 0.9, overlap: true }', '{ kind: torus, dims: [2, 2] }'],
      ['{ kind: choco-sgd, lr: 0.5, gamma: 0.3, compressor: { kind: sign-topk, ratio: 0.25 }, privacy: { epsilon: 0.5, clip: 0.5, calibration: classic } }', '{ kind: graph, links: [[0, 1], [1, 2], [2, 3], [1, 3]] }'],
    ]) {
      const a = await run(opt!, topo!);
      const w = await run(opt!, topo!, 'transport: { kind: ws, processes: 2 }');
      expect(deterministicMetrics(w.out), opt).toEqual(deterministicMetrics(a.out));
      expect(a.evals.at(-1)!['evalAccuracy'] as number, opt).toBeGreaterThan(0.75);
    }
  });
});

describe('a mixing matrix given by reference', () => {
  const base = (opt: string, topo: string) =>
    `workers: 4\ndata: { dataset: logistic, samples: 400, testSamples: 100, features: 5, batchSize: 8 }\nmodel: { kind: logistic }\noptimizer: ${opt}\ntopology: ${topo}\ntrain: { steps: 5, evalEvery: 5 }\n`;
  // A 4-ring with unequal link weights: W_ii is what its links leave.
  const W = [
    [0.5, 0.25, 0, 0.25],
    [0.25, 0.35, 0.4, 0],
    [0, 0.4, 0.5, 0.1],
    [0.25, 0, 0.1, 0.65],
  ];
  const mixingOf = (file: string, text: string) => (loadConfigText(file, text).config.optimizer as Record<string, unknown>)['mixing'];

  it('mixing: graph reads each link weight from topology.links or topology.file and gives the same W as writing it out', () => {
    const dir = tmp();
    const inline = mixingOf(join(dir, 'w.yaml'), base(`{ kind: dpsgd, mixing: { weights: ${JSON.stringify(W)} } }`, '{ kind: ring }'));
    expect(inline).toEqual({ weights: W });
    const links = '[{ a: 0, b: 1, weight: 0.25 }, { a: 1, b: 2, weight: 0.4 }, { a: 2, b: 3, weight: 0.1 }, { a: 3, b: 0, weight: 0.25 }]';
    expect(mixingOf(join(dir, 'g.yaml'), base('{ kind: dpsgd, mixing: graph }', `{ kind: graph, links: ${links} }`))).toEqual({ weights: W });
    writeFileSync(join(dir, 'links.csv'), 'a,b,bandwidth,latency,weight\n0,1,1 Gb/s,50 us,0.25\n1,2,,,0.4\n2,3,,,0.1\n3,0,,,0.25\n');
    expect(mixingOf(join(dir, 'f.yaml'), base('{ kind: choco-sgd, mixing: graph }', '{ kind: graph, file: links.csv }'))).toEqual({ weights: W });
  });

  it('mixing: { file } reads n rows of n numbers (CSV or JSON) relative to the experiment', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'W.csv'), '# rows of W\n' + W.map((r) => r.join(', ')).join('\n') + '\n');
    writeFileSync(join(dir, 'W.json'), JSON.stringify(W));
    expect(mixingOf(join(dir, 'a.yaml'), base('{ kind: dpsgd, mixing: { file: W.csv } }', '{ kind: ring }'))).toEqual({ weights: W });
    expect(mixingOf(join(dir, 'b.yaml'), base('{ kind: dpsgd, mixing: { file: W.json } }', '{ kind: ring }'))).toEqual({ weights: W });
  });

  it('bad references: one located line each', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'short.csv'), '0.5 0.5 0 0\n0.5 0.5 0\n');
    writeFileSync(join(dir, 'nan.csv'), '0.5,0.25,0,x\n');
    writeFileSync(join(dir, 'w.csv'), '0,1,,,0.25\n1,2,,,1.5\n');
    const cases: [string, string, string][] = [
      ['{ kind: dpsgd, mixing: graph }', '{ kind: ring }', 'optimizer.mixing: expected a graph topology whose links (topology.links or topology.file) carry weights for mixing: graph, found topology ring'],
      ['{ kind: dpsgd, mixing: graph }', '{ kind: graph, links: [{ a: 0, b: 1, weight: 0.5 }, [1, 2], { a: 2, b: 3, weight: 0.5 }, { a: 3, b: 0, weight: 0.5 }] }', 'topology.links.1: expected a weight on every link for optimizer.mixing: graph, found none on link 1-2'],
      ['{ kind: dpsgd, mixing: graph }', '{ kind: graph, links: [{ a: 0, b: 1, weight: 0.75 }, { a: 1, b: 2, weight: 0.5 }, { a: 2, b: 3, weight: 0.5 }, { a: 3, b: 0, weight: 0.25 }] }', "optimizer.mixing: expected the weights of node 1's links to sum to at most 1 (it keeps 1 - their sum), found 1.25"],
      ['{ kind: dpsgd, mixing: graph }', '{ kind: graph, file: w.csv }', `${join(dir, 'w.csv')}:2: topology.file: expected a mixing weight in [0, 1], found "1.5"`],
      ['{ kind: dpsgd, mixing: { file: short.csv } }', '{ kind: ring }', `${join(dir, 'short.csv')}:2: optimizer.mixing.file: expected a row of 4 numbers, found 3`],
      ['{ kind: dpsgd, mixing: { file: nan.csv } }', '{ kind: ring }', `${join(dir, 'nan.csv')}:1: optimizer.mixing.file: expected a number in column 4, found "x"`],
      ['{ kind: dpsgd, mixing: { file: none.csv } }', '{ kind: ring }', 'optimizer.mixing.file: expected a readable mixing matrix file'],
    ];
    for (const [opt, topo, message] of cases) {
      let err: Error | null = null;
      try {
        loadConfigText(join(dir, 'bad.yaml'), base(opt, topo));
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message, message).toContain(message);
      expect(err!.message).not.toContain('\n');
    }
  });
});

describe('bad gossip input: one located line', () => {
  const base = (opt: string, topo: string) =>
    `workers: 4\ndata: { dataset: logistic, samples: 400, testSamples: 100, features: 5, batchSize: 8 }\nmodel: { kind: logistic }\noptimizer: ${opt}\ntopology: ${topo}\ntrain: { steps: 5, evalEvery: 5 }\n`;
  const cases: [string, string, string][] = [
    // Row 3 sums to 0.9.
    ['{ kind: dpsgd, mixing: { weights: [[0.5, 0.25, 0, 0.25], [0.25, 0.5, 0.25, 0], [0, 0.25, 0.5, 0.25], [0.25, 0, 0.25, 0.4]] } }', '{ kind: ring }', 'bad.yaml:4:113: optimizer.mixing.weights.3: expected a doubly stochastic matrix: row 3 summing to 1 (tolerance 0.000001), found sum 0.9'],
    ['{ kind: dpsgd, mixing: { weights: [[0.5, 0.25, 0.25, 0], [0.25, 0.5, 0, 0.25], [0.25, 0, 0.5, 0.25], [0, 0.25, 0.25, 0.5]] } }', '{ kind: ring }', 'bad.yaml:4:59: optimizer.mixing.weights.0.2: expected 0 (workers 0 and 2 are not neighbours), found 0.25'],
    // Doubly stochastic on the ring's pattern but block-diagonal: it never mixes.
    ['{ kind: dpsgd, mixing: { weights: [[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]] } }', '{ kind: ring }', 'bad.yaml:4:46: optimizer.mixing.weights: expected a mixing matrix whose second-largest eigenvalue modulus is below 1 (gossip must contract), found modulus'],
    ['{ kind: dpsgd }', '{ kind: graph, links: [[0, 1], [2, 3]] }', 'bad.yaml:5:33: topology.links: expected a connected graph, found 2 of 4 nodes unreachable from node 0'],
    ['{ kind: dpsgd, privacy: { epsilon: 0, clip: 1 } }', '{ kind: ring }', 'bad.yaml:4:47: optimizer.privacy.epsilon: expected epsilon > 0, found 0'],
    ['{ kind: dpsgd, privacy: { epsilon: -1, clip: 1 } }', '{ kind: ring }', 'bad.yaml:4:47: optimizer.privacy.epsilon: expected epsilon > 0, found -1'],
    ['{ kind: choco-sgd, privacy: { epsilon: 2, clip: 0 } }', '{ kind: ring }', 'bad.yaml:4:60: optimizer.privacy.clip: expected a finite clip norm > 0, found 0'],
    // A tiny epsilon has a finite analytic sigma; a delta whose sigma exceeds float64 is refused at load.
    ['{ kind: dpsgd, privacy: { epsilon: 1e-310, delta: 1e-320, clip: 1 } }', '{ kind: ring }', 'optimizer.privacy.delta: expected a delta whose noise scale is finite in float64 (delta above about 1e-307), found 1e-320'],
    ['{ kind: choco-sgd }', '{ kind: star }', 'bad.yaml:5:19: topology.kind: expected a topology with neighbours for choco-sgd (ring, torus, graph or hierarchical), found star'],
    ['{ kind: dpsgd, mixing: uniform }', '{ kind: graph, links: [[0, 1], [1, 2], [1, 3]] }', 'bad.yaml:4:35: optimizer.mixing: expected uniform weights 1/(degree+1) only on a graph whose neighbours have equal degrees'],
    ['{ kind: dpsgd, mixing: averaging }', '{ kind: ring }', 'bad.yaml:4:35: optimizer.mixing: expected averaging (W = 11^T/n) only on a complete graph'],
  ];
  for (const [opt, topo, message] of cases) {
    it(message.split(': expected')[0]!, () => {
      let err: Error | null = null;
      try {
        loadConfigText('bad.yaml', base(opt, topo));
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toContain(message);
      expect(err!.message).not.toContain('\n');
    });
  }

  it('the CLI exits 2 with that line and no stack trace', async () => {
    const file = join(tmp(), 'bad.yaml');
    writeFileSync(file, base('{ kind: dpsgd, privacy: { epsilon: 0, clip: 1 } }', '{ kind: ring }'));
    const r = await cliInProcess(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`dtemu: ${file}:4:47: optimizer.privacy.epsilon: expected epsilon > 0, found 0`);
  });
});
