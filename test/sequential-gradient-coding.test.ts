import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { combine, createGradientCode, encode } from '../src/coding/index.ts';
import { SelectiveReattempt, srSgcParamError, srSgcStragglers } from '../src/coding/sequential/selective-reattempt.ts';
import { loadConfig, loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { Rng } from '../src/util/rng.ts';
import { UserError } from '../src/util/user-error.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';
import { inprocNet } from './helpers/inproc-net.ts';
import { Membership } from '../optimizers/common/rejoin.ts';
import { runSequentialCodingMaster, type SequentialRound } from '../optimizers/sequential-gradient-coding/master.ts';
import { runSequentialCodingWorker, sequentialCodeFor, type SequentialCodingConfig } from '../optimizers/sequential-gradient-coding/worker.ts';
import type { GradientOracle, WorkerContext } from '../optimizers/worker-context.ts';

/** Drive the scheme over `rounds` rounds: stragglers proposed by `propose`, kept only if they conform (the master's rule). */
function drive(sr: SelectiveReattempt, rounds: number, propose: (r: number) => number[]) {
  const decodedAt = new Map<number, number>();
  const tasks: Int32Array[] = [];
  const late: number[][] = [];
  let ignored = 0;
  for (let r = 1; r <= rounds; r++) {
    let st = propose(r);
    if (st.length > 0 && !(sr.conforms(r, st) && sr.outcome(r, st).complete)) st = [];
    if (st.length > 0) ignored++;
    tasks[r] = sr.tasks(r);
    late[r] = st;
    for (const job of sr.record(r, st)) decodedAt.set(job, r);
  }
  return { decodedAt, tasks, late, ignored };
}

describe('selective-reattempt sequential gradient coding (core)', () => {
  it('s = ceil(B lambda / (W - 1 + B)) and the parameter rules', () => {
    expect(srSgcStragglers({ B: 1, W: 3, lambda: 2 })).toBe(1);
    expect(srSgcStragglers({ B: 2, W: 5, lambda: 4 })).toBe(2);
    expect(srSgcStragglers({ B: 3, W: 4, lambda: 6 })).toBe(3);
    expect(srSgcParamError({ n: 6, B: 2, W: 4, lambda: 2 })?.key).toBe('W'); // 2 does not divide 3
    expect(srSgcParamError({ n: 6, B: 1, W: 3, lambda: 7 })?.key).toBe('lambda');
    expect(srSgcParamError({ n: 6, B: 1, W: 3, lambda: 2 })).toBeNull();
  });

  it('a burst plain GC (s = 1) cannot absorb: 2 stragglers in round 1, one reattempt in round 2, both jobs decode', () => {
    const sr = new SelectiveReattempt({ n: 6, B: 1, W: 3, lambda: 2 });
    expect(sr.s).toBe(1);
    expect(sr.conforms(1, [0, 1])).toBe(true);
    expect(sr.record(1, [0, 1])).toEqual([]); // job 1 has 4 < 5 tasks
    expect(Array.from(sr.tasks(2))).toEqual([1, 2, 2, 2, 2, 2]); // v - s = 1 reattempt, by id
    expect(sr.record(2, [])).toEqual([1, 2]);
    expect(sr.deliveredBy(1)).toEqual([0, 2, 3, 4, 5]);
    // Within W = 3 rounds of round 1: a third distinct straggler exceeds lambda, and worker 1
    // again would be a second burst (rounds 1 and 3 are not one burst of length <= B = 1).
    expect(sr.conforms(3, [4])).toBe(false);
    expect(sr.conforms(3, [1])).toBe(false);
    expect(sr.record(3, [])).toEqual([3]);
    expect(sr.conforms(4, [2, 3])).toBe(true); // round 1 has left the window
  });

  it('property: over n, (B, W, lambda) and random bursts within the model, every job decodes by round t + B and exactly to the serial gradient', () => {
    const rng = new Rng(11, 'sr-sgc');
    const d = 7;
    for (const [n, B, W, lambda] of [
      [4, 1, 2, 2],
      [6, 1, 3, 2],
      [6, 2, 5, 4],
      [8, 1, 3, 3],
      [9, 2, 3, 3],
      [12, 3, 4, 5],
    ] as const) {
      const sr = new SelectiveReattempt({ n, B, W, lambda });
      const code = createGradientCode('cyclic', n, sr.s, 1);
      const rounds = 60;
      const grads = (job: number, j: number) => {
        const r = new Rng(5, 'g', job, j);
        return Float32Array.from({ length: d }, () => r.normal());
      };
      const run = drive(sr, rounds, () => {
        // Bursty proposals: up to lambda workers, often more than s.
        const count = rng.next() < 0.4 ? 1 + rng.int(lambda) : 0;
        return [...new Set(Array.from({ length: count }, () => rng.int(n)))];
      });
      expect(run.ignored).toBeGreaterThan(5);
      for (let job = 1; job <= rounds - B; job++) {
        const at = run.decodedAt.get(job);
        expect(at).toBeDefined();
        expect(at!).toBeLessThanOrEqual(job + B);
      }
      // Re-run the same decisions to decode real vectors: worker i's coded vector of its task's job.
      const replay = new SelectiveReattempt({ n, B, W, lambda });
      const vectors = new Map<number, Map<number, Float32Array>>();
      for (let r = 1; r <= rounds; r++) {
        const tasks = replay.tasks(r);
        tasks.forEach((job, i) => {
          if (run.late[r]!.includes(i)) return;
          const m = vectors.get(job) ?? new Map<number, Float32Array>();
          m.set(i, encode(code, i, (j) => grads(job, j)));
          vectors.set(job, m);
        });
        for (const job of replay.record(r, run.late[r]!)) {
          const who = replay.deliveredBy(job).slice(0, n - sr.s);
          const got = combine(code.decoder(who), who.map((i) => vectors.get(job)!.get(i)!));
          const want = new Float64Array(d);
          for (let j = 0; j < n; j++) grads(job, j).forEach((v, c) => (want[c] = want[c]! + v));
          got.forEach((v, c) => expect(Math.abs(v - want[c]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[c]!))));
        }
      }
    }
  });

  it('property: conforms() equals a scan of every counted round in the window (the per-worker index), and a W far beyond the run costs nothing', () => {
    const rng = new Rng(12, 'sr-sgc-window');
    for (const [n, B, W, lambda] of [
      [5, 1, 2, 2],
      [6, 1, 3, 2],
      [6, 2, 5, 4],
      [7, 1, 9, 3],
      [8, 3, 10, 6],
    ] as const) {
      const sr = new SelectiveReattempt({ n, B, W, lambda });
      // The reference: every round's results kept, the window scanned round by round (as the scheme states it).
      const results: Int32Array[] = [];
      const counted = (r: number) => {
        const res = results[r]!;
        const late = res.filter((j) => j === -1).length;
        return !(res.every((j) => j === -1 || j === r) && late <= sr.s);
      };
      const scan = (from: number, to: number) => {
        const out = new Set<number>();
        for (let q = Math.max(1, from); q <= to; q++) if (results[q] && counted(q)) results[q]!.forEach((j, i) => j === -1 && out.add(i));
        return out;
      };
      const reference = (r: number, st: number[]) => {
        const window = scan(r - W + 1, r - 1);
        st.forEach((i) => window.add(i));
        const earlier = scan(r - W + 1, r - B);
        return window.size <= lambda && !st.some((i) => earlier.has(i));
      };
      let agreedFalse = 0;
      for (let r = 1; r <= 80; r++) {
        // Several proposals per round, checked against the reference; one of them is recorded.
        const proposals = Array.from({ length: 4 }, () => [...new Set(Array.from({ length: rng.int(lambda + 2) }, () => rng.int(n)))]);
        for (const st of proposals) {
          expect(sr.conforms(r, st)).toBe(reference(r, st));
          if (!reference(r, st)) agreedFalse++;
        }
        let st = rng.next() < 0.5 ? proposals[0]! : [];
        if (st.length > 0 && !(sr.conforms(r, st) && sr.outcome(r, st).complete)) st = [];
        const tasks = sr.tasks(r);
        results[r] = Int32Array.from(tasks, (job, i) => (st.includes(i) ? -1 : job));
        sr.record(r, st);
      }
      expect(agreedFalse).toBeGreaterThan(0);
    }
    // W of 3e9 (as a config may say): 2,000 rounds of 64 workers, each checked, in linear time.
    const big = new SelectiveReattempt({ n: 64, B: 1, W: 3_000_000_001, lambda: 64 });
    for (let r = 1; r <= 2000; r++) {
      const st = r % 3 === 0 ? [r % 64, (r + 1) % 64] : [];
      big.conforms(r, st);
      big.record(r, big.conforms(r, st) && big.outcome(r, st).complete ? st : []);
    }
    expect(big.isDecoded(1999)).toBe(true);
  });
});

/* ---------- master and workers over the in-process network: every decoded gradient ---------- */

describe('sequential-gradient-coding master + workers', () => {
  it('under bursts within (B, W, lambda) = (2, 5, 4) (s = 2), every decoded job is the serial full gradient at its round\'s model', async () => {
    const n = 6;
    const d = 5;
    const steps = 16;
    const cfg: SequentialCodingConfig = { B: 2, W: 5, lambda: 4, mu: 1, lr: 0.05, momentum: 0, nesterov: false, weightDecay: 0, schedule: { kind: 'constant', every: 1000, gamma: 0.1, minLr: 0, warmup: 0 } };
    // A deterministic gradient of (params, batch): the batch id says which partition and job.
    const partGrad = (w: ArrayLike<number>, batch: number, out: Float64Array | Float32Array) => {
      for (let i = 0; i < d; i++) out[i] = (1 + (batch % 5)) * w[i]! - 0.01 * (batch % 97) * (i + 1);
    };
    const oracle: GradientOracle = {
      paramCount: d,
      lossAndGrad: (p, b, g) => (partGrad(p, b[0]!, g), 0),
      evaluate: async () => ({ loss: 0, accuracy: 0 }),
      lastTiming: () => ({ wallSec: 0, cpuSec: 0 }),
    };
    // Bursts: workers 0, 1, 2 in round 4 (3 > s), worker 3 in rounds 9 and 10 (a burst of B = 2).
    const slow = (w: number, step: number) => (step === 4 && w < 3) || (w === 3 && (step === 9 || step === 10));
    const { eps, server } = inprocNet(n, 'star');
    const init = Float32Array.from({ length: d }, (_, i) => 1 + i);
    const ctxOf = (ep: (typeof eps)[number]): WorkerContext => {
      const counts = new Map<number, number>();
      return {
        rank: ep.rank, workers: n, ep, oracle, initialParams: init, steps, evalEvery: 1000, seed: 3, topology: 'star', replacement: false,
        nextBatch: () => Int32Array.of(0),
        computeTime: (step) => ({ compute: 0.01, delay: slow(ep.rank, step) ? 1 : 0 }),
        report: () => {},
        allReduce: async () => {},
        partitionBatch: (j) => {
          const t = (counts.get(j) ?? 0) + 1;
          counts.set(j, t);
          return Int32Array.of(1000 * t + j); // job t of partition j
        },
        uniform: () => 0.5,
        params: [{ name: 'w', offset: 0, size: d, shape: [d] }],
        crashesAt: () => false,
        crash: async () => {},
        reportStep: () => {},
      };
    };
    const rounds: SequentialRound[] = [];
    const code = sequentialCodeFor(cfg, n, 3);
    await Promise.all([
      runSequentialCodingMaster(server!, cfg, code, init, steps, new Membership(n, steps, []), (r) => rounds.push(r)),
      ...eps.map((ep) => runSequentialCodingWorker(ctxOf(ep), cfg)),
    ]);
    // Replay: w_1 = init; each round applies its decoded jobs (oldest first) with SGD, lr / n.
    const models: Float32Array[] = [];
    const w = Float32Array.from(init);
    const g = new Float64Array(d);
    const part = new Float64Array(d);
    let late = 0;
    for (const r of rounds) {
      models[r.step] = Float32Array.from(w);
      for (const { job, gradient } of r.decoded) {
        g.fill(0);
        for (let j = 0; j < n; j++) {
          partGrad(models[job]!, 1000 * job + j, part);
          for (let i = 0; i < d; i++) g[i] = g[i]! + part[i]!;
        }
        for (let i = 0; i < d; i++) expect(Math.abs(gradient[i]! - g[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(g[i]!)));
        if (job < r.step) late++;
        for (let i = 0; i < d; i++) w[i] = w[i]! - cfg.lr * (gradient[i]! / n);
      }
    }
    // Every job decoded, the burst of round 4 finished by reattempts in round 6, and nobody waited for it.
    expect(rounds.flatMap((r) => r.decoded.map((x) => x.job)).sort((a, b) => a - b)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(rounds[3]!.stragglers).toEqual([0, 1, 2]);
    expect(rounds[5]!.tasks.filter((t) => t === 4)).toHaveLength(1);
    expect(late).toBeGreaterThan(0);
  });
});

/* ---------- the algorithm, end to end ---------- */

function experiment(optimizer: string, extra: string, train: string, transport: string): string {
  return `name: sgc-test
seed: 3
workers: 6
data: { dataset: logistic, samples: 1200, testSamples: 300, features: 20, batchSize: 32, partition: iid }
model: { kind: logistic }
optimizer: ${optimizer}
topology: { kind: star }
network: { bandwidth: 1 Gb/s, latency: 100 us }
compute: { speed: 100 MFLOP/s }
train: ${train}
transport: { kind: ${transport} }
${extra}
`;
}

async function runAlg(optimizer: string, extra = '', train = '{ steps: 20, evalEvery: 10 }', transport = 'inproc') {
  const dir = tmp();
  const file = join(dir, 'exp.yaml');
  writeFileSync(file, experiment(optimizer, extra, train, transport));
  const out = join(dir, 'run');
  await runExperiment(loadConfig(file), { outDir: out });
  const train_ = metrics(out).filter((l) => l['kind'] === 'train');
  return {
    dir: out,
    losses: train_.map((l) => l['loss'] as number),
    times: train_.map((l) => l['simTimeSec'] as number),
    summary: json<{ finalLoss: number; finalAccuracy: number; simTimeSec: number; timeToTarget: { step: number } | null }>(join(out, 'summary.json')),
  };
}

describe('sequential-gradient-coding (algorithm)', () => {
  const sgc = '{ kind: sequential-gradient-coding, lr: 0.5 }';
  const waitAll = '{ kind: gradient-coding, strategy: wait-for-all, lr: 0.5 }';
  let plain: Awaited<ReturnType<typeof runAlg>> | null = null;

  it('within plain GC\'s tolerance (one slow worker: s = 1 per round) every job decodes in its round: the run equals synchronous SGD, and is faster', async () => {
    const slow = 'stragglers: { slow: [{ worker: 2, factor: 20 }] }';
    const a = await runAlg(sgc, slow);
    const b = (plain = await runAlg(waitAll));
    const c = await runAlg(waitAll, slow);
    // Full gradients every round (decoded from 5 coded vectors vs the mean of 6 uncoded ones).
    a.losses.forEach((l, i) => expect(Math.abs(l - b.losses[i]!)).toBeLessThan(1e-5 * Math.max(1, l)));
    // Each worker computes s + 1 = 2 partitions and the round ends at the cutoff (1 + mu) x the
    // fastest (2 x 2 = 4 partition-times), against 20 for waiting (measured ratio 0.25).
    expect(a.summary.simTimeSec).toBeLessThan(0.3 * c.summary.simTimeSec);
  });

  it('a burst of two stragglers (beyond s = 1, within (B, W, lambda) = (1, 3, 2)): the job decodes one round late, nothing is waited for', async () => {
    const burst = 'faults:\n  - { kind: slow, worker: 0, factor: 30, at: 5, for: 1 }\n  - { kind: slow, worker: 1, factor: 30, at: 5, for: 1 }';
    const a = await runAlg(sgc, burst);
    const ref = plain ?? (await runAlg(waitAll));
    const gc = await runAlg(waitAll, burst);
    // Until the burst the runs are synchronous SGD; job 5's gradient is applied at the end of
    // round 6 (with job 6's), so round 6's loss (computed at w_6 = w_5) differs from then on.
    for (let i = 0; i < 5; i++) expect(Math.abs(a.losses[i]! - ref.losses[i]!)).toBeLessThan(1e-5);
    expect(Math.abs(a.losses[5]! - ref.losses[5]!)).toBeGreaterThan(1e-4);
    // Round 5 did not wait for the two slow workers; wait-for-all did.
    const step5 = (t: number[]) => t[4]! - t[3]!;
    expect(step5(a.times)).toBeLessThan(0.3 * step5(gc.times)); // measured 0.21
    // All 20 jobs decoded and applied: it still trains like synchronous SGD.
    expect(Math.abs(a.summary.finalLoss - ref.summary.finalLoss)).toBeLessThan(0.01);
  });

  it('identical metrics over ws and in process (random delays: the decisions depend on virtual time only)', async () => {
    const delays = 'stragglers: { delay: { kind: shifted-exponential, shift: 0 s, mean: 5 ms } }';
    const a = await runAlg(sgc, delays, '{ steps: 8, evalEvery: 4 }');
    const b = await runAlg(sgc, delays, '{ steps: 8, evalEvery: 4 }', 'ws');
    expect(deterministicMetrics(b.dir)).toEqual(deterministicMetrics(a.dir));
  });

  it('reaches its target with the required keys only', async () => {
    const r = await runAlg('{ kind: sequential-gradient-coding }', 'stragglers: { delay: { kind: pareto, scale: 2 ms, shape: 1.5 } }', '{ steps: 60, evalEvery: 20, target: { accuracy: 0.8 } }');
    expect(r.summary.timeToTarget).not.toBeNull();
  });

  it('bad input: one located line, exit code 2', () => {
    const bad = (optimizer: string, topology = 'star') => {
      try {
        loadConfigText('exp.yaml', experiment(optimizer, '', '{ steps: 5 }', 'inproc').replace('kind: star', `kind: ${topology}`));
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).exitCode).toBe(2);
        expect((e as Error).message.split('\n')).toHaveLength(1);
        return (e as Error).message;
      }
      throw new Error(`accepted ${optimizer}`);
    };
    expect(bad('{ kind: sequential-gradient-coding, B: 2, W: 4 }')).toMatch(/exp\.yaml:\d+:\d+: optimizer\.W: expected an integer W > B with B \(2\) dividing W - 1, found 4/);
    expect(bad('{ kind: sequential-gradient-coding, lambda: 7 }')).toMatch(/optimizer\.lambda: expected an integer 1 <= lambda <= workers \(6\), found 7/);
    expect(bad('{ kind: sequential-gradient-coding }', 'ring')).toMatch(/topology\.kind: expected star/);
    // B sizes every worker's B + 1 model copies: refused beyond the run's steps (5), before anything is allocated.
    expect(bad('{ kind: sequential-gradient-coding, B: 3000000000, W: 3000000001 }')).toMatch(/exp\.yaml:\d+:\d+: optimizer\.B: expected B < train\.steps \(5\).*found 3000000000$/);
    expect(bad('{ kind: sequential-gradient-coding, B: 5, W: 6 }')).toMatch(/optimizer\.B: expected B < train\.steps \(5\)/);
  });
});
