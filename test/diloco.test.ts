import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../optimizers/common/adamw.ts';
import { sgdStep } from '../optimizers/common/sgd-update.ts';
import { readTimeline } from '../src/plot/timeline-plots.ts';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { json, metrics, tmp } from './helpers/cli.ts';

describe('DiLoCo outer step (torch.optim.SGD, nesterov=True)', () => {
  it('matches hand-computed Nesterov values over several steps; the first moves by lr (1 + momentum) g', () => {
    const lr = 0.7;
    const mu = 0.9;
    const p = Float32Array.from([1, -2]);
    const v = new Float32Array(2);
    const grads = [
      [0.5, -1],
      [0.25, 0.5],
      [-0.1, 0.2],
    ];
    // By hand: v1 = g1; d1 = g1 + mu v1 = (1 + mu) g1.
    sgdStep(p, Float32Array.from(grads[0]!), v, lr, mu, 0, true);
    expect(p[0]).toBeCloseTo(1 - lr * (1 + mu) * 0.5, 6);
    expect(p[1]).toBeCloseTo(-2 + lr * (1 + mu) * 1, 6);
    // v2 = mu g1 + g2; d2 = g2 + mu v2
    sgdStep(p, Float32Array.from(grads[1]!), v, lr, mu, 0, true);
    const v2 = [mu * 0.5 + 0.25, mu * -1 + 0.5];
    const p2 = [1 - lr * 1.9 * 0.5 - lr * (0.25 + mu * v2[0]!), -2 + lr * 1.9 - lr * (0.5 + mu * v2[1]!)];
    expect(p[0]).toBeCloseTo(p2[0]!, 6);
    expect(p[1]).toBeCloseTo(p2[1]!, 6);
    sgdStep(p, Float32Array.from(grads[2]!), v, lr, mu, 0, true);
    const v3 = [mu * v2[0]! - 0.1, mu * v2[1]! + 0.2];
    expect(p[0]).toBeCloseTo(p2[0]! - lr * (-0.1 + mu * v3[0]!), 6);
    expect(p[1]).toBeCloseTo(p2[1]! - lr * (0.2 + mu * v3[1]!), 6);
  });

  it('AdamW follows torch semantics (bias correction, decoupled weight decay)', () => {
    const a = new AdamW(1, 0.9, 0.999, 1e-8, 0.1);
    const p = Float32Array.from([1]);
    a.step(p, Float32Array.from([0.5]), 0.01);
    // t=1: m^ = g, v^ = g^2 -> step = lr * g/|g| = lr; decay first: p = 1*(1 - lr*wd) - lr
    expect(p[0]).toBeCloseTo(1 * (1 - 0.001) - 0.01, 6);
    a.step(p, Float32Array.from([-0.5]), 0.01);
    const m = (0.9 * 0.05 + 0.1 * -0.5) / (1 - 0.81);
    const v = (0.999 * 0.001 * 0.25 + 0.001 * 0.25) / (1 - 0.999 ** 2);
    expect(p[0]).toBeCloseTo((1 * 0.999 - 0.01) * 0.999 - (0.01 * m) / (Math.sqrt(v) + 1e-8), 6);
  });
});

describe('DiLoCo runs', () => {
  it('H = 1, outer lr 1, no outer momentum, SGD inner = synchronous SGD on the averaged gradient', async () => {
    const base = tmp();
    const common = ['transport.kind=inproc', 'optimizer.momentum=0', 'optimizer.lr=0.05'];
    const run = async (name: string, sets: string[]) => {
      const dir = join(base, name);
      const r = await dtemuHere(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', ...[...common, ...sets].flatMap((s) => ['--set', s])]);
      expect(r.stderr).toBe('');
      return metrics(dir);
    };
    const sync = await run('sync', []);
    // (A fresh optimizer block: the fixture's momentum does not apply to DiLoCo's default AdamW.)
    const diloco = await run('diloco', ['optimizer={kind: diloco, innerOptimizer: sgd, lr: 0.05, momentum: 0, weightDecay: 0}', 'optimizer.localSteps=1', 'optimizer.outerLr=1', 'optimizer.outerMomentum=0']);
    expect(diloco).toHaveLength(sync.length);
    sync.forEach((l, i) => {
      const a = l['kind'] === 'train' ? (l['loss'] as number) : (l['evalLoss'] as number);
      const b = diloco[i]![l['kind'] === 'train' ? 'loss' : 'evalLoss'] as number;
      expect(Math.abs(a - b)).toBeLessThan(1e-5 * Math.max(1, Math.abs(a)));
      expect(diloco[i]!['bits']).toBe(l['bits']);
    });
  });

  it('H = 50 reaches the dense baseline\'s final loss within 5% with >= 20x fewer bits (Fashion-MNIST MLP)', async () => {
    const base = tmp();
    const dense = join(base, 'dense');
    const dl = join(base, 'diloco');
    expect((await dtemuHere(['run', 'experiments/quickstart.yaml', '--out', dense, '--quiet', '--set', 'transport.kind=inproc'])).code).toBe(0);
    expect(
      (await dtemuHere(['run', 'experiments/quickstart.yaml', '--out', dl, '--quiet', '--set', 'transport.kind=inproc', '--set', 'optimizer={kind: diloco, localSteps: 50}']))
        .code,
    ).toBe(0);
    const d = json<{ finalLoss: number; totalBits: number }>(join(dense, 'summary.json'));
    const q = json<{ finalLoss: number; totalBits: number }>(join(dl, 'summary.json'));
    expect(q.finalLoss).toBeLessThanOrEqual(d.finalLoss * 1.05);
    expect(d.totalBits / q.totalBits).toBeGreaterThanOrEqual(20);
  });
});

describe('Streaming DiLoCo and quantised outer gradients', () => {
  const run = async (dir: string, sets: string[]) => {
    const r = await dtemuHere(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', ...['transport.kind=inproc', 'optimizer={kind: diloco}', 'optimizer.localSteps=8', 'optimizer.lr=0.01', ...sets].flatMap((s) => ['--set', s])]);
    expect(r.stderr).toBe('');
    const train = metrics(dir).filter((l) => l['kind'] === 'train');
    const perStep = train.map((l, i) => (l['bits'] as number) - (i ? (train[i - 1]!['bits'] as number) : 0));
    return { perStep, total: train[train.length - 1]!['bits'] as number, loss: json<{ finalLoss: number }>(join(dir, 'summary.json')).finalLoss };
  };

  it('F fragments lower the peak bytes per synchronization by about F, for about the same total', async () => {
    const base = tmp();
    const plain = await run(join(base, 'f1'), ['optimizer.fragments=1']);
    const streaming = await run(join(base, 'f4'), ['optimizer.fragments=4']);
    // The last step synchronizes every fragment at once (the run ends): compare the steps before.
    const peak = (xs: number[]) => Math.max(...xs.slice(0, -1));
    expect(peak(plain.perStep) / peak(streaming.perStep)).toBeGreaterThan(3.5);
    expect(peak(plain.perStep) / peak(streaming.perStep)).toBeLessThan(4.5);
    // Syncs happen every 8/4 = 2 steps with a quarter of the model each.
    expect(streaming.perStep.filter((b) => b > 0).length).toBeGreaterThan(3 * plain.perStep.filter((b) => b > 0).length);
    expect(Number.isFinite(streaming.loss)).toBe(true);
  });

  it('quantised outer gradients are counted from the real bytes: fp16 halves them, 4-bit QSGD all-gathered is ~1/4', async () => {
    const base = tmp();
    const dense = await run(join(base, 'dense'), []);
    const fp16 = await run(join(base, 'fp16'), ['optimizer.compressor={kind: fp16}', 'optimizer.errorFeedback=none']);
    const q4 = await run(join(base, 'q4'), ['optimizer.compressor={kind: qsgd, levels: 7, bucket: 512}', 'optimizer.errorFeedback=ef']);
    expect(fp16.total / dense.total).toBeGreaterThan(0.5);
    expect(fp16.total / dense.total).toBeLessThan(0.52);
    // 4 bits per element, every worker forwarding 3 payloads vs a dense ring's 2(n-1)/n x 32 bits.
    expect(q4.total / dense.total).toBeGreaterThan(0.24);
    expect(q4.total / dense.total).toBeLessThan(0.3);
    expect(Math.abs(q4.loss - dense.loss)).toBeLessThan(0.1);
  });
});

describe('Streaming DiLoCo overlap: tau inner steps while a fragment is in flight', () => {
  // No stragglers and a slow worker (6.1 ms per step) so that times are exact and known.
  const run = async (dir: string, sets: string[]) => {
    const all = ['transport.kind=inproc', 'stragglers={}', 'compute.speed=10 MFLOP/s', 'optimizer={kind: diloco}', 'optimizer.localSteps=8', 'optimizer.fragments=4', 'optimizer.lr=0.01', ...sets];
    const r = await dtemuHere(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', ...all.flatMap((s) => ['--set', s])]);
    expect(r.stderr).toBe('');
    const summary = json<{ simTimeSec: number; totalBits: number; finalLoss: number; steps: number }>(join(dir, 'summary.json'));
    const byStep = (w: number) => readTimeline(dir).filter((e) => e.worker === w);
    return { summary, byStep, lines: metrics(dir) };
  };
  const blocked = (e: TimelineEvent) => e.end - e.delayEnd;

  it('hides each fragment\'s all-reduce behind tau steps of compute: never blocking until the last step', async () => {
    const base = tmp();
    const blocking = await run(join(base, 't0'), ['optimizer.overlap=0']);
    const overlapped = await run(join(base, 't3'), ['optimizer.overlap=3']);
    const steps = blocking.summary.steps;
    expect(overlapped.summary.totalBits).toBe(blocking.summary.totalBits);
    let hidden = 0;
    for (let w = 0; w < 4; w++) {
      const b = blocking.byStep(w);
      const o = overlapped.byStep(w);
      const c = o[0]!.computeEnd - o[0]!.start;
      let syncs = 0;
      for (let i = 0; i < steps - 1; i++) {
        expect(blocked(o[i]!)).toBeCloseTo(0, 12);
        const bg = o[i]!.background ?? [];
        if (blocked(b[i]!) === 0) {
          expect(bg).toHaveLength(0);
          continue;
        }
        // The transfer a blocking run waits for starts when the step's compute ends and runs on.
        syncs++;
        if (w === 0) hidden += blocked(b[i]!);
        expect(bg).toHaveLength(1);
        expect(bg[0]![0]).toBeCloseTo(o[i]!.delayEnd, 12);
        // Same ring, same bytes; the blocking run's workers start a sync up to one 24-byte
        // serialization apart (unequal chunks), the overlapped run's all at once.
        expect(Math.abs(bg[0]![1] - bg[0]![0] - blocked(b[i]!))).toBeLessThan(3e-6);
        expect(bg[0]![1] - bg[0]![0]).toBeLessThan(3 * c);
      }
      expect(syncs).toBe(16); // fragment p syncs at steps 8k + 2p < 40
      // Every step but the last is pure compute.
      expect(o[steps - 1]!.delayEnd).toBeCloseTo(steps * c, 12);
    }
    expect(overlapped.summary.simTimeSec).toBeCloseTo(blocking.summary.simTimeSec - hidden, 4);
    expect(Math.abs(overlapped.summary.finalLoss - blocking.summary.finalLoss)).toBeLessThan(0.05);
  });

  it('a transfer slower than tau steps blocks its merge step until it arrives (later ones queue behind it)', async () => {
    const o = await run(tmp(), ['optimizer.overlap=2', 'network.bandwidth=0.5 Mb/s']);
    const events = o.byStep(0);
    let checked = 0;
    events.forEach((e, i) => {
      for (const [, arrives] of e.background ?? []) {
        const merge = events[i + 2]!;
        if (merge.step === o.summary.steps) continue; // the last step also runs the final sync
        expect(arrives).toBeGreaterThan(merge.delayEnd);
        expect(merge.end).toBeCloseTo(arrives, 12);
        checked++;
      }
    });
    expect(checked).toBe(15);
  });

  it('merges a fragment exactly tau steps after it was sent: the local trajectory is untouched until then', async () => {
    const base = tmp();
    const loss = async (name: string, sets: string[]) => (await run(join(base, name), sets)).lines.filter((l) => l['kind'] === 'train').map((l) => l['loss'] as number);
    // mixing 1 never merges the global values into the local ones: the reference trajectory.
    const never = await loss('never', ['optimizer.mixing=1', 'optimizer.overlap=3']);
    const firstDiff = (xs: number[]) => xs.findIndex((x, i) => x !== never[i]) + 1;
    // Fragment 0 syncs first, at step 8; its merge changes the loss of the step after it.
    expect(firstDiff(await loss('t0', ['optimizer.overlap=0']))).toBe(9);
    expect(firstDiff(await loss('t3', ['optimizer.overlap=3']))).toBe(12);
    expect(firstDiff(await loss('t5', ['optimizer.overlap=5']))).toBe(14);
  });
});

describe('DiLoCo through a master (star): drop-out of late and crashed workers', () => {
  const common = [
    'optimizer={kind: diloco}',
    'optimizer.localSteps=8',
    'optimizer.lr=0.01',
    'topology.kind=star',
    // Worker 3 is always 50-60 ms late at every step.
    'stragglers.delay={kind: shifted-exponential, shift: 50 ms, mean: 10 ms, workers: [3]}',
  ];
  const run = async (dir: string, sets: string[]) => {
    const r = await dtemuHere(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', ...[...common, ...sets].flatMap((s) => ['--set', s])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return {
      lines: metrics(dir).map(({ wallTimeSec: _w, ...rest }) => rest),
      summary: json<{ simTimeSec: number; finalLoss: number; workers: { commSec: number }[] }>(join(dir, 'summary.json')),
    };
  };

  it('a timeout leaves the late worker out (sooner, still converging); deterministic over ws; a crash does not stop it', async () => {
    const base = tmp();
    const waitAll = await run(join(base, 'all'), ['transport.kind=inproc']);
    const timed = await run(join(base, 'timed'), ['transport.kind=inproc', 'optimizer.syncTimeout=5 ms']);
    const timedWs = await run(join(base, 'timed-ws'), ['optimizer.syncTimeout=5 ms']);
    expect(timedWs.lines).toEqual(timed.lines);
    // The punctual workers no longer wait for worker 3 at synchronizations.
    expect(timed.summary.workers[0]!.commSec).toBeLessThan(0.5 * waitAll.summary.workers[0]!.commSec);
    expect(timed.summary.finalLoss).toBeLessThan(0.5);
    const crashed = await run(join(base, 'crash'), ['optimizer.syncTimeout=5 ms', 'faults=[{kind: crash, worker: 2, at: 20}]']);
    const train = crashed.lines.filter((l) => l['kind'] === 'train');
    expect(train).toHaveLength(40);
    expect((train[30]!['lossByWorker'] as number[]).length).toBe(3);
  });
});
