import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneBitChunk, oneBitChunkedAllReduce, oneBitPushPull, oneBitServeRound } from '../comm/onebit-adam/compressed-allreduce.ts';
import { decodeOneBit, encodeOneBit, oneBitCompress, oneBitPayloadBytes } from '../comm/onebit-adam/one-bit.ts';
import { OneBitAdamServer, OneBitAdamWorker } from '../comm/onebit-adam/onebit-adam.ts';
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import { runCo2, type Co2Config } from '../optimizers/co2/worker.ts';
import { runEagerDiloco, type EagerDilocoConfig } from '../optimizers/eager-diloco/worker.ts';
import type { WorkerContext } from '../optimizers/worker-context.ts';
import { loadConfig } from '../src/config/load.ts';
import { resolvePlugins } from '../src/config/plugins.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { readTimeline } from '../src/plot/timeline-plots.ts';
import { cliInProcess } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, json, metrics, ROOT, tmp } from './helpers/cli.ts';
import { inprocNet } from './helpers/inproc-net.ts';
import { scriptedContext } from './helpers/scripted-workers.ts';
import { mulberry32 } from './helpers/prng.ts';

/*
 * #17 items 5 and 6: eager-update DiLoCo, CO2 and 1-bit Adam as algorithms. Small runs (blobs,
 * an MLP 16-32-4 of d = 676 parameters, 4 workers, 24 steps) in this process; no stragglers, so
 * every compute step takes the same virtual time and overlap is exact.
 */
const D = 676;
const N = 4;

function experiment(dir: string, optimizer: string, extra = '', workers = N, topology = 'ring'): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: overlap-test
seed: 3
workers: ${workers}
data: { dataset: blobs, samples: 2000, testSamples: 400, features: 16, classes: 4, batchSize: 16 }
model: { kind: mlp, hidden: [32] }
optimizer: ${optimizer}
topology: { kind: ${topology} }
network: { bandwidth: 20 Mb/s, latency: 1 ms }
compute: { speed: 20 MFLOP/s }
train: { steps: 24, evalEvery: 8 }
${extra.includes('transport:') ? '' : 'transport: { kind: inproc }'}
${extra}
`,
  );
  return file;
}

// Several tests share a run (same config => same metrics): each is run once.
const runs = new Map<string, ReturnType<typeof runOnce>>();
function run(optimizer: string, extra = '', workers = N, topology = 'ring') {
  const key = [optimizer, extra === 'transport: { kind: inproc }' ? '' : extra, workers, topology].join('|');
  if (!runs.has(key)) runs.set(key, runOnce(optimizer, extra, workers, topology));
  return runs.get(key)!;
}

async function runOnce(optimizer: string, extra: string, workers: number, topology: string) {
  const dir = tmp();
  const out = join(dir, 'run');
  await runExperiment(await resolvePlugins(loadConfig(experiment(dir, optimizer, extra, workers, topology))), { outDir: out });
  const train = metrics(out).filter((l) => l['kind'] === 'train');
  return {
    dir: out,
    det: deterministicMetrics(out),
    losses: train.map((l) => l['loss'] as number),
    bits: train.map((l) => l['bits'] as number),
    uplink: train.map((l) => l['uplinkBits'] as number),
    summary: json<{ finalAccuracy: number; simTimeSec: number; totalBits: number }>(join(out, 'summary.json')),
    timeline: readTimeline(out),
  };
}

const ADAM = `{ module: ${join(ROOT, 'experiments', 'overlap', 'adam.ts')} }`;

/*
 * The worker loops with scripted gradients (no model): worker r's gradient at step t is the fixed
 * vector -v(r, t), its inner optimizer SGD with lr 1 and no momentum, so its local step adds
 * v(r, t) and its outer gradient at the end of a phase is minus the sum of its v's. All values
 * are small dyadic rationals, so float32 and the hand computation below agree exactly. Rank 0
 * evaluates its own model after every step: at an outer step that is its outer parameters.
 */
const SCRIPT = { n: 4, d: 3, h: 2, steps: 6 };
const X0 = [0.5, -1, 2];
const v = (r: number, t: number) => [r + 1, (t % 3) - 1 + (r === 2 ? 4 : 0), r * t - 2];
const INNER = { innerOptimizer: 'sgd', betas: [0.9, 0.999], eps: 1e-8, lr: 1, momentum: 0, nesterov: false, weightDecay: 0, schedule: { kind: 'constant', every: 1, gamma: 1, minLr: 0, warmup: 0 }, localSteps: SCRIPT.h } as const;

async function scripted<C>(runWorker: (ctx: WorkerContext, cfg: C) => Promise<void>, cfg: C): Promise<Float32Array[]> {
  const { n, d, steps } = SCRIPT;
  const { eps } = inprocNet(n, 'ring', 1e9, 1e-4);
  const evaluated: Float32Array[] = [];
  await Promise.all(
    eps.map((ep, r) => {
      const ctx = scriptedContext({
        rank: r,
        workers: n,
        ep,
        steps,
        initialParams: Float32Array.from(X0),
        push: (t) => v(r, t),
        evaluated,
        extra: { allReduce: (data: Float32Array) => ringAllReduce(ep, data) },
      });
      return runWorker(ctx, cfg);
    }),
  );
  expect(evaluated).toHaveLength(steps);
  return evaluated;
}

/** Worker m's outer gradient of outer step r (1-based): minus the sum of its phase's v's. */
const delta = (m: number, r: number) => [0, 1, 2].map((k) => -(v(m, 2 * r - 1)[k]! + v(m, 2 * r)[k]!));
/** Δ̄^r, the average over the n workers. */
const mean = (r: number) => [0, 1, 2].map((k) => [0, 1, 2, 3].reduce((s, m) => s + delta(m, r)[k]!, 0) / SCRIPT.n);
const add = (a: number[], b: number[], c = 1) => a.map((x, k) => x + c * b[k]!);
const expectModel = (got: Float32Array, want: number[], what: string) => expect(Array.from(got), what).toEqual(want);

describe('eager-diloco and co2 through their worker loops (scripted gradients, M = 4, H = 2)', () => {
  it("eager DiLoCo: rank 0's outer step r applies Δ_0^r / M + Δ̄^{r-1} - Δ_0^{r-1} / M; the last one Δ̄^R + Δ̄^{R-1} - Δ_0^{R-1} / M", async () => {
    const cfg: EagerDilocoConfig = { ...INNER, betas: [0.9, 0.999], outerLr: 0.5, outerMomentum: 0.5, overlap: 2 };
    const got = await scripted(runEagerDiloco, cfg);
    // Nesterov SGD (torch semantics): u = μ u + g; θ = θ - α (g + μ u).
    let theta = X0;
    let u = [0, 0, 0];
    const nesterov = (g: number[]) => {
      u = add(g, u, 0.5);
      theta = add(theta, add(g, u, 0.5), -0.5);
    };
    const M = SCRIPT.n;
    nesterov(delta(0, 1).map((x) => x / M));
    expectModel(got[1]!, theta, 'step 2');
    nesterov(add(add(delta(0, 2).map((x) => x / M), mean(1)), delta(0, 1), -1 / M));
    expectModel(got[3]!, theta, 'step 4');
    nesterov(add(add(mean(3), mean(2)), delta(0, 2), -1 / M));
    expectModel(got[5]!, theta, 'step 6');
    // Between outer steps the model is θ plus the local steps' sum.
    expectModel(got[2]!, add(Array.from(got[1]!), v(0, 3)), 'step 3');
    // The eager proxy is not the true average here (else this test could not tell them apart).
    expect(delta(0, 1).map((x) => x / M)).not.toEqual(mean(1));
  });

  it('eager DiLoCo with overlap 0: every outer step is DiLoCo\'s with the fresh average', async () => {
    const cfg: EagerDilocoConfig = { ...INNER, betas: [0.9, 0.999], outerLr: 0.5, outerMomentum: 0.5, overlap: 0 };
    const got = await scripted(runEagerDiloco, cfg);
    let theta = X0;
    let u = [0, 0, 0];
    for (const r of [1, 2, 3]) {
      u = add(mean(r), u, 0.5);
      theta = add(theta, add(mean(r), u, 0.5), -0.5);
      expectModel(got[2 * r - 1]!, theta, `outer step ${r}`);
    }
  });

  it('CO2: the first outer step leaves the model where it started; λ divides the stale averages only, not the last fresh one', async () => {
    const lambda = 4;
    const cfg: Co2Config = { ...INNER, betas: [0.9, 0.999], outerLr: 1, outerMomentum: 0.5, delay: 1, gapPenalty: lambda };
    const got = await scripted(runCo2, cfg);
    // Heavy ball: m = β m + g; θ = θ - α m.
    expectModel(got[1]!, X0, 'step 2: Δ̄^0 = 0');
    let m = mean(1).map((x) => x / lambda);
    let theta = add(X0, m, -1);
    expectModel(got[3]!, theta, 'step 4: Δ̄^1 / λ');
    m = add(mean(2).map((x) => x / lambda), m, 0.5);
    theta = add(theta, m, -1);
    // The last step: the stale Δ̄^2 / λ, then the fresh Δ̄^3 in full.
    m = add(mean(3), m, 0.5);
    theta = add(theta, m, -1);
    expectModel(got[5]!, theta, 'step 6: Δ̄^2 / λ, then Δ̄^3');

    // Blocking (delay 0, where gapPenalty does not apply): every average is fresh, undivided.
    const sync = await scripted(runCo2, { ...cfg, delay: 0, gapPenalty: undefined } satisfies Co2Config);
    let ms = [0, 0, 0];
    let ts = X0;
    for (const r of [1, 2, 3]) {
      ms = add(mean(r), ms, 0.5);
      ts = add(ts, ms, -1);
      expectModel(sync[2 * r - 1]!, ts, `delay 0, outer step ${r}`);
    }
  });
});

describe('eager-update DiLoCo', () => {
  it('overlap 0 is DiLoCo: identical metrics', async () => {
    const dl = await run('{ kind: diloco, localSteps: 6, lr: 0.01 }');
    const e0 = await run('{ kind: eager-diloco, localSteps: 6, lr: 0.01, outerLr: 0.7, outerMomentum: 0.9, overlap: 0 }');
    expect(e0.det).toEqual(dl.det);
  });

  it('with one worker the eager proxy is the true average: any overlap equals DiLoCo', async () => {
    const dl = await run('{ kind: diloco, localSteps: 6, lr: 0.01 }', '', 1);
    const eager = await run('{ kind: eager-diloco, localSteps: 6, lr: 0.01, outerLr: 0.7, outerMomentum: 0.9, overlap: 6 }', '', 1);
    expect(eager.det).toEqual(dl.det);
  });

  it('the outer all-reduce runs behind the next inner steps: in flight in the Gantt, never blocking before the last step', async () => {
    const dl = await run('{ kind: diloco, localSteps: 6, lr: 0.01 }');
    const eager = await run('{ kind: eager-diloco, localSteps: 6, lr: 0.01, overlap: 6 }');
    expect(eager.summary.totalBits).toBe(dl.summary.totalBits);
    for (let w = 0; w < N; w++) {
      const ev = eager.timeline.filter((e) => e.worker === w);
      const blocking = dl.timeline.filter((e) => e.worker === w);
      for (const e of ev) {
        const outer = e.step % 6 === 0 && e.step < 24;
        expect(e.background ?? [], `step ${e.step}`).toHaveLength(outer ? 1 : 0);
        if (e.step < 24) expect(e.end - e.delayEnd, `step ${e.step} blocked`).toBeCloseTo(0, 12);
        if (outer) {
          const [sent, arrives] = e.background![0]!;
          expect(sent).toBeCloseTo(e.delayEnd, 12);
          // The same ring all-reduce DiLoCo waits for, now hidden behind compute.
          const b = blocking.find((x) => x.step === e.step)!;
          expect(arrives - sent).toBeCloseTo(b.end - b.delayEnd, 6);
        }
      }
    }
    // Three outer all-reduces hidden: the run is shorter by exactly their time.
    const hidden = dl.timeline.filter((e) => e.worker === 0 && e.step % 6 === 0 && e.step < 24).reduce((s, e) => s + e.end - e.delayEnd, 0);
    expect(hidden).toBeGreaterThan(0);
    expect(eager.summary.simTimeSec).toBeCloseTo(dl.summary.simTimeSec - hidden, 9);
    expect(eager.losses).not.toEqual(dl.losses);
    expect(eager.summary.finalAccuracy).toBeGreaterThan(0.9);
    // Without the key: overlap = localSteps, the paper's recommendation.
    expect((await run('{ kind: eager-diloco, localSteps: 6, lr: 0.01 }')).det).toEqual(eager.det);
  });
});

describe('CO2', () => {
  it('delay 0, no penalty, no clipping, outer momentum 0 is DiLoCo with outer momentum 0: identical metrics', async () => {
    const dl = await run('{ kind: diloco, localSteps: 6, lr: 0.01, outerLr: 0.7, outerMomentum: 0 }');
    const sync = await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 0.7, outerMomentum: 0, delay: 0 }');
    expect(sync.det).toEqual(dl.det);
  });

  it('the penalty divides the stale outer gradient before the momentum: λ = 2 with lr α is λ = 1 with lr α/2 until the last, fresh average', async () => {
    const a = await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 1, outerMomentum: 0.5, gapPenalty: 2 }');
    const b = await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 0.5, outerMomentum: 0.5, gapPenalty: 1 }');
    const none = await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 1, outerMomentum: 0.5, gapPenalty: 1 }');
    // Every stale outer step is the same (halving is exact), so every training loss is; the last
    // step's fresh average is not divided, so the final models part (the scripted test pins it).
    expect(a.losses).toEqual(b.losses);
    const lastEval = (r: { dir: string }) => metrics(r.dir).filter((l) => l['kind'] === 'eval').at(-1)!['evalLoss'];
    expect(lastEval(a)).not.toBe(lastEval(b));
    expect(a.losses).not.toEqual(none.losses);
    // A clip far above every momentum element changes nothing; a tight one changes the run.
    expect((await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 1, outerMomentum: 0.5, gapPenalty: 1, clip: 1000 }')).det).toEqual(none.det);
    expect((await run('{ kind: co2, localSteps: 6, lr: 0.01, outerLr: 1, outerMomentum: 0.5, gapPenalty: 1, clip: 0.0001 }')).losses).not.toEqual(none.losses);
  });

  it('one-step delay: the runs part at the first outer step; every all-reduce but the last is in flight', async () => {
    const co2 = await run('{ kind: co2, localSteps: 6, lr: 0.01 }');
    const sync = await run('{ kind: co2, localSteps: 6, lr: 0.01, delay: 0 }');
    // Up to the first outer step (step 6) the two runs are the same local training; then CO2's
    // model is back at x_0 (pinned exactly by the scripted test above), the blocking run's is not.
    expect(co2.losses.slice(0, 6)).toEqual(sync.losses.slice(0, 6));
    expect(co2.losses[6]).not.toBe(sync.losses[6]);
    for (const e of co2.timeline) {
      const outer = e.step % 6 === 0 && e.step < 24;
      expect(e.background ?? []).toHaveLength(outer ? 1 : 0);
      if (e.step < 24) expect(e.end - e.delayEnd).toBeCloseTo(0, 12);
    }
    expect(co2.summary.simTimeSec).toBeLessThan(sync.summary.simTimeSec);
    expect(co2.summary.finalAccuracy).toBeGreaterThan(0.9);
  });
});

describe('1-bit Adam', () => {
  /** Worker i's compressed vector (scale * sign) of a seeded random local momentum. */
  const workerVectors = (n: number, d: number, seed: number) => {
    const rnd = mulberry32(seed);
    return Array.from({ length: n }, () => {
      const x = Float32Array.from({ length: d }, () => rnd() * 2 - 1);
      const sent = new Float32Array(d);
      const scale = oneBitCompress(x, new Float32Array(d), sent, new Float32Array(d));
      return { sent, scale };
    });
  };
  /** What the server side must produce for a range: C(mean of the decoded vectors) with zero error. */
  const reference = (vs: { sent: Float32Array; scale: number }[], start: number, end: number) => {
    const avg = new Float32Array(end - start);
    for (const v of vs) {
      const dec = new Float32Array(end - start);
      decodeOneBit(encodeOneBit(v.sent.subarray(start, end), v.scale), dec);
      // Float32 accumulation in rank order, each term (1/n) * value in double precision.
      for (let k = 0; k < avg.length; k++) avg[k] = avg[k]! + dec[k]! * (1 / vs.length);
    }
    const out = new Float32Array(avg.length);
    oneBitCompress(avg, new Float32Array(avg.length), out, new Float32Array(avg.length));
    return out;
  };

  it('chunked compressed all-reduce over sizes and worker counts: every rank gets C(average) per chunk; bytes = 2(n-1) Σ payloads', async () => {
    for (const n of [2, 3, 5]) {
      for (const d of [1, 7, 64, 1001]) {
        const { eps } = inprocNet(n);
        const vs = workerVectors(n, d, 17 * n + d);
        const outs = vs.map(() => new Float32Array(d));
        const servers = eps.map((ep) => {
          const { start, end } = oneBitChunk(ep.rank, d, n);
          return new OneBitAdamServer(end - start);
        });
        await Promise.all(eps.map((ep, r) => oneBitChunkedAllReduce(ep, vs[r]!.sent, vs[r]!.scale, servers[r]!, outs[r]!)));
        let payloads = 0;
        for (let j = 0; j < n; j++) {
          const { start, end } = oneBitChunk(j, d, n);
          payloads += oneBitPayloadBytes(end - start);
          const want = reference(vs, start, end);
          for (const out of outs) expect(Array.from(out.subarray(start, end)), `n ${n} d ${d} chunk ${j}`).toEqual(Array.from(want));
        }
        expect(eps.reduce((s, ep) => s + ep.stats.bytesSent, 0)).toBe(2 * (n - 1) * payloads);
      }
    }
  });

  it('through a parameter server: the same C(average) on every worker; n (9 + ⌈d/8⌉) bytes each way', async () => {
    const n = 4;
    const d = 333;
    const { eps, server } = inprocNet(n, 'star');
    const vs = workerVectors(n, d, 99);
    const outs = vs.map(() => new Float32Array(d));
    const state = new OneBitAdamServer(d);
    await Promise.all([oneBitServeRound(server!, state), ...eps.map((ep, r) => oneBitPushPull(ep, vs[r]!.sent, vs[r]!.scale, outs[r]!))]);
    const want = reference(vs, 0, d);
    for (const out of outs) expect(Array.from(out)).toEqual(Array.from(want));
    expect(eps.reduce((s, ep) => s + ep.stats.bytesSent, 0)).toBe(n * (9 + Math.ceil(d / 8)));
    expect(server!.stats.bytesSent).toBe(n * (9 + Math.ceil(d / 8)));
  });

  it('an element that saw no gradient in the warm-up keeps zero momentum after the freeze (else lr * scale / eps)', () => {
    const stepOnce = (mask: boolean) => {
      const w = new OneBitAdamWorker(3, { freezeStep: 2, maskZeroVariance: mask });
      const server = new OneBitAdamServer(3);
      const x = Float32Array.from([1, 1, 1]);
      for (let t = 0; t < 2; t++) w.warmupStep(x, Float32Array.from([0.5, -0.25, 0]), 0.01);
      expect(w.v[2]).toBe(0);
      const before = Float32Array.from(x);
      w.compressLocalMomentum(Float32Array.from([0.5, -0.25, 0]));
      // The 1-bit vector gives the silent element a full ±scale.
      expect(Math.abs(w.sent[2]!)).toBeGreaterThan(0.05);
      server.compress(w.sent);
      w.applyMomentum(x, server.sent, 0.01);
      return { moved: x.map((v, i) => v - before[i]!), m: w.m };
    };
    const masked = stepOnce(true);
    expect(masked.moved[2]).toBe(0);
    expect(masked.m[2]).toBe(0);
    // The other elements step as without the mask.
    const raw = stepOnce(false);
    expect(masked.moved[0]).toBe(raw.moved[0]);
    expect(masked.moved[1]).toBe(raw.moved[1]);
    expect(Math.abs(raw.moved[2]!)).toBeGreaterThan(1e4 * 0.01);
  });

  it('before its freeze it is data-parallel Adam (an independent plugin): identical metrics; after it the runs part', async () => {
    const adam = await run(ADAM);
    expect((await run('{ kind: onebit-adam, freezeStep: 24 }')).det).toEqual(adam.det);
    const frozen = await run('{ kind: onebit-adam, freezeStep: 10 }');
    // The loss of step t is computed at the parameters after step t-1.
    expect(frozen.losses.slice(0, 11)).toEqual(adam.losses.slice(0, 11));
    expect(frozen.losses[11]).not.toBe(adam.losses[11]);
    // 24 steps of Adam at lr 1e-3 (torch's default) from scratch: both far above chance (0.25).
    expect(adam.summary.finalAccuracy).toBeGreaterThan(0.8);
    expect(frozen.summary.finalAccuracy).toBeGreaterThan(0.8);
  });

  it('bits are the encoded bytes: fp32 during warm-up, then 1 bit per element plus a 9-byte header per payload', async () => {
    const ring = await run('{ kind: onebit-adam, freezeStep: 10 }');
    const perStep = ring.bits.map((b, i) => b - (ring.bits[i - 1] ?? 0));
    // Warm-up: the ring all-reduce of 4d bytes, 2(n-1)/n of it per worker.
    for (let t = 0; t < 10; t++) expect(perStep[t]).toBe(2 * (N - 1) * 4 * D * 8);
    // Compression: all-to-all of the chunks, then the ring all-gather of the server chunks.
    let chunks = 0;
    for (let j = 0; j < N; j++) {
      const { start, end } = oneBitChunk(j, D, N);
      chunks += oneBitPayloadBytes(end - start);
    }
    expect(chunks).toBe(4 * (9 + 22));
    for (let t = 10; t < 24; t++) expect(perStep[t]).toBe(2 * (N - 1) * chunks * 8);

    const star = await run('{ kind: onebit-adam, freezeStep: 10 }', '', N, 'star');
    const up = star.uplink.map((b, i) => b - (star.uplink[i - 1] ?? 0));
    for (let t = 0; t < 10; t++) expect(up[t]).toBe(N * 4 * D * 8);
    // n d / 8 bytes of signs plus, per worker, the 9-byte header with its scale.
    for (let t = 10; t < 24; t++) expect(up[t]).toBe(N * (Math.ceil(D / 8) + 9) * 8);
    expect(star.summary.finalAccuracy).toBeGreaterThan(0.8);
  });
});

describe('over ws and in process: identical metrics', () => {
  for (const opt of ['{ kind: eager-diloco, localSteps: 6, lr: 0.01, overlap: 6 }', '{ kind: co2, localSteps: 6, lr: 0.01 }', '{ kind: onebit-adam, freezeStep: 10 }']) {
    it(opt, async () => {
      const inproc = await run(opt, 'transport: { kind: inproc }');
      // One worker process for the four logical workers: the cheapest ws run.
      const ws = await run(opt, 'transport: { kind: ws, processes: 1 }');
      expect(ws.det).toEqual(inproc.det);
    });
  }
});

describe('bad input: exit 2, one located line', () => {
  const cases: [string, RegExp][] = [
    ['{ kind: eager-diloco, localSteps: 6, overlap: 7 }', /optimizer\.overlap.*expected 0 .* or localSteps \(6.*found 7/],
    // Between 0 and H an overlap would be H's arithmetic with extra waiting: refused.
    ['{ kind: eager-diloco, localSteps: 6, overlap: 1 }', /optimizer\.overlap.*expected 0 .* or localSteps \(6.*found 1\s*$/],
    ['{ kind: co2, localSteps: 6, delay: 0, gapPenalty: 4 }', /optimizer\.gapPenalty.*does not apply with delay 0/],
    ['{ kind: onebit-adam, freezeStep: 0 }', /optimizer\.freezeStep/],
    ['{ kind: onebit-adam }', /optimizer.*freezeStep/],
    ['{ kind: co2, localSteps: 6, delay: 2 }', /optimizer\.delay/],
    ['{ kind: co2, localSteps: 6, gapPenalty: 0.5 }', /optimizer\.gapPenalty/],
  ];
  for (const [opt, re] of cases) {
    it(opt, async () => {
      const file = experiment(tmp(), opt);
      const r = await cliInProcess(['validate', file]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).toContain('exp.yaml');
    });
  }
});
