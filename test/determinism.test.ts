import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicMetrics, dtemu, json, tmp } from './helpers/cli.ts';

/**
 * The strongest test of the project: same config + seed => identical metrics (all but wall
 * time), whatever carries the bytes and however workers are packed into processes.
 */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';

function run(dir: string, ...sets: string[]) {
  const r = dtemu(['run', FIXTURE, '--out', dir, '--quiet', ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return deterministicMetrics(dir);
}

describe('determinism', () => {
  const base = tmp();

  it('two in-process runs with the same seed give identical metrics; another seed differs', () => {
    const a = run(join(base, 'a'), 'transport.kind=inproc');
    const b = run(join(base, 'b'), 'transport.kind=inproc');
    expect(a.length).toBe(40 + 4);
    expect(b).toEqual(a);
    const c = run(join(base, 'c'), 'transport.kind=inproc', 'seed=6');
    expect(c).not.toEqual(a);
  });

  it('ws worker processes (4, 2 and 1 process) give the same metrics as in-process', () => {
    const inproc = run(join(base, 'in'), 'transport.kind=inproc');
    const ws4 = run(join(base, 'ws4'), 'transport.processes=4');
    const ws2 = run(join(base, 'ws2'), 'transport.processes=2');
    const ws1 = run(join(base, 'ws1'), 'transport.processes=1');
    expect(ws4).toEqual(inproc);
    expect(ws2).toEqual(inproc);
    expect(ws1).toEqual(inproc);
    const m = json<{ processes: { ranks: number[] }[]; backend: string }>(join(base, 'ws2', 'manifest.json'));
    expect(m.processes.map((p) => p.ranks)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(m.backend).toBe('wasm');
  });

  it('the star (parameter-server) topology is deterministic across transports too', () => {
    const inproc = run(join(base, 'sin'), 'transport.kind=inproc', 'topology.kind=star');
    const ws = run(join(base, 'sws'), 'topology.kind=star', 'transport.processes=2');
    expect(ws).toEqual(inproc);
    // Same gradients, same updates: the loss trajectory equals the ring's; only time differs.
    const ring = run(join(base, 'rin'), 'transport.kind=inproc');
    const loss = (m: Record<string, unknown>[]) => m.filter((l) => l['kind'] === 'train').map((l) => (l['loss'] as number).toFixed(4));
    expect(loss(inproc)).toEqual(loss(ring));
  });

  it('compressed payloads through the parameter server: the same over ws, and the server returns the dense average', () => {
    const sets = ['topology.kind=star', 'optimizer.kind=compressed-sgd', 'optimizer.compressor={kind: topk, ratio: 0.1}'];
    const inproc = run(join(base, 'cin'), 'transport.kind=inproc', ...sets);
    expect(run(join(base, 'cws'), 'transport.processes=2', ...sets)).toEqual(inproc);
    // The server's bytes: every step, the fp32 average (d = 16*32+32+32*4+4 = 676 values) to each of 4 workers.
    const s = json<{ serverBits: number; steps: number }>(join(base, 'cin', 'summary.json'));
    expect(s.serverBits).toBe(s.steps * 4 * 676 * 4 * 8);
  });
});
