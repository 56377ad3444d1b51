import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, json, tmp } from './helpers/cli.ts';

const FIXTURE = 'test/fixtures/tiny-blobs.yaml';

async function run(dir: string, file: string, sets: string[]) {
  const r = await dtemuHere(['run', file, '--out', dir, '--quiet', ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return deterministicMetrics(dir);
}

describe('asynchronous Qsparse-local-SGD', () => {
  // Per-worker periods and a slow worker: the master's order of updates is decided by virtual time.
  const ASYNC = [
    'optimizer.kind=qsparse-local-sgd',
    'optimizer.mode=async',
    'optimizer.compressor={kind: sign-topk, ratio: 0.1}',
    'optimizer.syncEvery=[2, 3, 4, 5]',
    'topology.kind=star',
  ];

  // The in-process run both tests read (run once).
  const base = tmp();
  let first: Promise<Record<string, unknown>[]> | null = null;
  const inproc = () => (first ??= run(join(base, 'a'), FIXTURE, [...ASYNC, 'transport.kind=inproc']));

  it('is deterministic: same seed, same metrics, in process and over ws (4 and 2 processes)', async () => {
    const a = await inproc();
    const b = await run(join(base, 'b'), FIXTURE, [...ASYNC, 'transport.kind=inproc']);
    const ws4 = await run(join(base, 'ws4'), FIXTURE, [...ASYNC, 'transport.processes=4']);
    const ws2 = await run(join(base, 'ws2'), FIXTURE, [...ASYNC, 'transport.processes=2']);
    expect(b).toEqual(a);
    expect(ws4).toEqual(a);
    expect(ws2).toEqual(a);
    // Workers really ran asynchronously: worker 2 is 3x slower, so the others are ahead in time.
    const last = a.filter((l) => l['kind'] === 'train').pop()!;
    expect(last['step']).toBe(40);
    const s = json<{ workers: { worker: number; computeSec: number; waitSec: number }[] }>(join(base, 'a', 'summary.json'));
    expect(s.workers[2]!.computeSec).toBeCloseTo(3 * s.workers[0]!.computeSec, 9);
  });

  it('pushes per worker follow each worker\'s own period, and the master replies with the whole model', async () => {
    await inproc();
    const s = json<{ workers: { worker: number; bytesTo: Record<string, number> }[]; serverBits: number }>(join(base, 'a', 'summary.json'));
    // Model: 16-32-4 MLP = 16*32 + 32 + 32*4 + 4 = 676 parameters; replies are fp32 models.
    const pushes = [2, 3, 4, 5].map((h) => Math.ceil(40 / h));
    expect(s.serverBits).toBe(pushes.reduce((x, y) => x + y, 0) * 676 * 4 * 8);
    for (const w of s.workers) expect(Object.keys(w.bytesTo)).toEqual(['4']);
  });
});

describe('synchronous compressed training', () => {
  it('dense compressors (fp16) take the ring; sparse ones are all-gathered; bits follow', async () => {
    const base = tmp();
    const common = ['transport.kind=inproc', 'optimizer.kind=compressed-sgd', 'train.steps=10'];
    await run(join(base, 'fp16'), FIXTURE, [...common, 'optimizer.compressor={kind: fp16}']);
    await run(join(base, 'none'), FIXTURE, [...common, 'optimizer.compressor={kind: none}']);
    await run(join(base, 'topk'), FIXTURE, [...common, 'optimizer.compressor={kind: topk, ratio: 0.05}']);
    const bits = (n: string) => json<{ totalBits: number }>(join(base, n, 'summary.json')).totalBits;
    // fp16 halves the bytes; each hop's payload also carries the codec's small header.
    expect(bits('fp16')).toBeLessThan(0.52 * bits('none'));
    expect(bits('fp16')).toBeGreaterThan(0.5 * bits('none'));
    // top-5% all-gathered: each worker sends n-1 = 3 payloads of ~34 kept values per step.
    expect(bits('topk')).toBeLessThan(0.2 * bits('none'));
  });
});

describe('Qsparse-local-SGD on Fashion-MNIST', () => {
  it('top-1% + EF + H=4 is within 1.5 accuracy points of allreduce-sgd with >= 50x fewer bits', async () => {
    const base = tmp();
    const dense = join(base, 'dense');
    const qs = join(base, 'qsparse');
    await run(dense, 'experiments/quickstart.yaml', ['transport.kind=inproc']);
    await run(qs, 'experiments/quickstart.yaml', [
      'transport.kind=inproc',
      'optimizer.kind=qsparse-local-sgd',
      'optimizer.compressor={kind: topk, ratio: 0.01}',
      'optimizer.errorFeedback=ef',
      'optimizer.localSteps=4',
    ]);
    const d = json<{ finalAccuracy: number; totalBits: number; steps: number }>(join(dense, 'summary.json'));
    const q = json<{ finalAccuracy: number; totalBits: number; steps: number }>(join(qs, 'summary.json'));
    expect(q.steps).toBe(d.steps); // same samples processed
    expect(q.finalAccuracy).toBeGreaterThanOrEqual(d.finalAccuracy - 0.015);
    expect(d.totalBits / q.totalBits).toBeGreaterThanOrEqual(50);
  });
});
