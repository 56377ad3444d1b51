import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, dtemu, json, tmp } from './helpers/cli.ts';

/**
 * The strongest test of the project: same config + seed => identical metrics (all but wall
 * time), whatever carries the bytes and however workers are packed into processes.
 */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';

/**
 * `dtemu run`; with `here`, in this test's process (already used by other runs) rather than a
 * fresh one: the in-process runs compare across both.
 */
async function run(dir: string, here: boolean, ...sets: string[]) {
  const args = ['run', FIXTURE, '--out', dir, '--quiet', ...sets.flatMap((s) => ['--set', s])];
  const r = here ? await cliInProcess(args) : dtemu(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return deterministicMetrics(dir);
}
const HERE = true;
const OWN_PROCESS = false;

describe('determinism', () => {
  const base = tmp();
  // The fixture in process (seed 5, ring): the reference of the first three tests.
  let reference: Promise<Record<string, unknown>[]> | null = null;
  const inprocRing = () => (reference ??= run(join(base, 'a'), HERE, 'transport.kind=inproc'));

  it('two in-process runs with the same seed give identical metrics (in this process and in a fresh one); another seed differs', async () => {
    const a = await inprocRing();
    const b = await run(join(base, 'b'), OWN_PROCESS, 'transport.kind=inproc');
    expect(a.length).toBe(40 + 4);
    expect(b).toEqual(a);
    const c = await run(join(base, 'c'), HERE, 'transport.kind=inproc', 'seed=6');
    expect(c).not.toEqual(a);
  });

  it('ws worker processes (4, 2 and 1 process) give the same metrics as in-process', async () => {
    const inproc = await inprocRing();
    const ws4 = await run(join(base, 'ws4'), OWN_PROCESS, 'transport.processes=4');
    const ws2 = await run(join(base, 'ws2'), OWN_PROCESS, 'transport.processes=2');
    const ws1 = await run(join(base, 'ws1'), OWN_PROCESS, 'transport.processes=1');
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

  it('the star (parameter-server) topology is deterministic across transports too', async () => {
    const inproc = await run(join(base, 'sin'), HERE, 'transport.kind=inproc', 'topology.kind=star');
    const ws = await run(join(base, 'sws'), OWN_PROCESS, 'topology.kind=star', 'transport.processes=2');
    expect(ws).toEqual(inproc);
    // Same gradients, same updates: the loss trajectory equals the ring's; only time differs.
    const ring = await inprocRing();
    const loss = (m: Record<string, unknown>[]) => m.filter((l) => l['kind'] === 'train').map((l) => (l['loss'] as number).toFixed(4));
    expect(loss(inproc)).toEqual(loss(ring));
  });

  it('compressed payloads through the parameter server: the same over ws, and the server returns the dense average', async () => {
    const sets = ['topology.kind=star', 'optimizer.kind=compressed-sgd', 'optimizer.compressor={kind: topk, ratio: 0.1}'];
    const inproc = await run(join(base, 'cin'), HERE, 'transport.kind=inproc', ...sets);
    expect(await run(join(base, 'cws'), OWN_PROCESS, 'transport.processes=2', ...sets)).toEqual(inproc);
    // The server's bytes: every step, the fp32 average (d = 16*32+32+32*4+4 = 676 values) to each of 4 workers.
    const s = json<{ serverBits: number; steps: number }>(join(base, 'cin', 'summary.json'));
    expect(s.serverBits).toBe(s.steps * 4 * 676 * 4 * 8);
  });
});
