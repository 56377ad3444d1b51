import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { deterministicMetrics, dtemu, dtemuAsync, json, tmp } from './helpers/cli.ts';

const FILE = 'experiments/faults/crash-coded.yaml';

describe('a crash from the fault timeline', () => {
  it('kills the real worker process in ws mode; the coded run goes on, identical to the in-process run', async () => {
    const base = tmp();
    const ws = join(base, 'ws');
    const r = dtemu(['run', FILE, '--out', ws, '--quiet', '--set', 'train.steps=120']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = json<{ status: string; processes: { pid: number; ranks: number[] }[] }>(join(ws, 'manifest.json'));
    expect(m.status).toBe('completed');
    const victim = m.processes.find((p) => p.ranks[0] === 4)!;
    expect(() => process.kill(victim.pid, 0)).toThrow(); // really gone
    const lines = deterministicMetrics(ws);
    expect(lines.filter((l) => l['kind'] === 'train')).toHaveLength(120);
    // From step 100 on only five workers report.
    const byWorker = (s: number) => (lines.find((l) => l['kind'] === 'train' && l['step'] === s)!['lossByWorker'] as number[]).length;
    expect(byWorker(99)).toBe(6);
    expect(byWorker(100)).toBe(5);
    const inproc = join(base, 'inproc');
    expect((await dtemuHere(['run', FILE, '--out', inproc, '--quiet', '--set', 'train.steps=120', '--set', 'transport.kind=inproc'])).code).toBe(0);
    expect(deterministicMetrics(inproc)).toEqual(lines);
  });

  it('gradient coding rejects crashing worker 0 or more workers than it tolerates, at load time', async () => {
    const base = tmp();
    const zero = await dtemuHere(['run', FILE, '--out', join(base, 'a'), '--set', 'faults=[{kind: crash, worker: 0, at: 5}]'], true);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('faults.0.worker: expected a worker other than 0 (worker 0 evaluates the model)');
    const many = await dtemuHere(['run', FILE, '--out', join(base, 'b'), '--set', 'faults=[{kind: crash, worker: 1, at: 5}, {kind: crash, worker: 2, at: 6}, {kind: crash, worker: 3, at: 7}]'], true);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('expected at most optimizer.stragglersTolerated (2) crashed workers for gradient-coding, found 3');
  });

  it('an unplanned death is still a failure, even for a worker whose crash is scheduled later', async () => {
    const dir = join(tmp(), 'run');
    const child = dtemuAsync(['run', FILE, '--out', dir, '--quiet', '--set', 'train.steps=2000', '--set', 'faults=[{kind: crash, worker: 4, at: 1900}]']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    let pid = 0;
    while (!pid) {
      if (Date.now() > deadline) throw new Error('no workers');
      try {
        const m = json<{ processes: { pid: number; ranks: number[] }[] }>(join(dir, 'manifest.json'));
        if (m.processes.length === 6 && existsSync(join(dir, 'metrics.jsonl')) && readFileSync(join(dir, 'metrics.jsonl'), 'utf8').length > 0) pid = m.processes.find((p) => p.ranks[0] === 4)!.pid;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(pid, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/worker process \d \(pid \d+, worker 4\) was killed by SIGKILL/);
    expect(stderr).not.toContain('fault timeline');
  });

  it('stops synchronous SGD with an error naming the worker, in process and over ws', async () => {
    const base = tmp();
    for (const t of ['inproc', 'ws']) {
      const r = await dtemuHere(['run', FILE, '--out', join(base, t), '--quiet', '--set', 'optimizer={kind: allreduce-sgd, lr: 0.5}', '--set', 'topology.kind=ring', '--set', `transport.kind=${t}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/worker (process 4 \(pid \d+, worker 4\) was killed by SIGKILL: crashed|4 crashed) .*step 100.*allreduce-sgd cannot continue without it/);
      expect(json<{ status: string }>(join(base, t, 'manifest.json')).status).toBe('failed');
    }
  });
});

describe('rejoin after a crash (fault timeline `rejoin: N`)', () => {
  const trainLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l['kind'] === 'train');
  const reporters = (lines: Record<string, unknown>[], s: number) => (trainLines(lines).find((l) => l['step'] === s)!['lossByWorker'] as number[]).length;

  it('gradient coding: a new process takes over worker 4 twenty steps after its SIGKILL, from the master\'s model; identical in process', async () => {
    const base = tmp();
    const sets = ['train.steps=130', 'faults=[{kind: crash, worker: 4, at: 100, rejoin: 20}]'].flatMap((s) => ['--set', s]);
    const ws = join(base, 'ws');
    const r = dtemu(['run', FILE, '--out', ws, '--quiet', ...sets]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = json<{ status: string; processes: { pid: number; ranks: number[]; crashedAtStep?: number }[] }>(join(ws, 'manifest.json'));
    expect(m.status).toBe('completed');
    const fours = m.processes.filter((p) => p.ranks.includes(4));
    expect(fours).toHaveLength(2);
    expect(fours[0]!.crashedAtStep).toBe(100);
    expect(fours[1]!.crashedAtStep).toBeUndefined();
    expect(fours[1]!.pid).not.toBe(fours[0]!.pid);
    expect(() => process.kill(fours[0]!.pid, 0)).toThrow();

    const lines = deterministicMetrics(ws);
    expect(reporters(lines, 99)).toBe(6);
    expect(reporters(lines, 100)).toBe(5);
    expect(reporters(lines, 119)).toBe(5);
    expect(reporters(lines, 120)).toBe(6);
    expect(reporters(lines, 130)).toBe(6);
    // Bits stay cumulative across the crash and the new process (it goes on from the old counters).
    const bits = trainLines(lines).map((l) => l['bits'] as number);
    for (let i = 1; i < bits.length; i++) expect(bits[i]!).toBeGreaterThan(bits[i - 1]!);

    // The replacement starts when the model of step 119 reaches it. The round's replies share
    // the server's one outgoing link max-min fairly (network.sharing's default): the live
    // workers' models arrive together, the replacement's (16 bytes of header more) just after.
    const timeline = readFileSync(join(ws, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; worker: number; start: number; end: number });
    const at = (s: number, w: number) => timeline.find((e) => e.step === s && e.worker === w);
    expect(at(100, 4)).toBeUndefined();
    expect(at(119, 4)).toBeUndefined();
    const back = at(120, 4)!;
    expect(at(119, 3)!.end).toBe(at(119, 5)!.end);
    expect(back.start).toBeGreaterThan(at(119, 5)!.end);
    expect(back.start - at(119, 5)!.end).toBeLessThan(1e-6); // 128 bits alone on the link

    const inproc = join(base, 'inproc');
    expect((await dtemuHere(['run', FILE, '--out', inproc, '--quiet', ...sets, '--set', 'transport.kind=inproc'])).code).toBe(0);
    expect(deterministicMetrics(inproc)).toEqual(lines);
    expect(readFileSync(join(inproc, 'timeline.jsonl'), 'utf8')).toBe(readFileSync(join(ws, 'timeline.jsonl'), 'utf8'));
  });

  it('DiLoCo on a star: the replacement joins at the first synchronization after its downtime and continues from the global parameters', async () => {
    const base = tmp();
    // H = 10: worker 2 dies at step 12; rejoin 5 -> earliest step 16 -> the sync at step 20 -> it runs from step 21.
    const sets = [
      'topology.kind=star',
      'optimizer={kind: diloco}',
      'optimizer.localSteps=10',
      'optimizer.lr=0.01',
      'faults=[{kind: crash, worker: 2, at: 12, rejoin: 5}]',
    ].flatMap((s) => ['--set', s]);
    const runIn = async (t: string) => {
      const dir = join(base, t);
      const r = await dtemuHere(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', '--set', `transport.kind=${t}`, ...sets]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return dir;
    };
    const inproc = await runIn('inproc');
    const lines = deterministicMetrics(inproc);
    expect(reporters(lines, 11)).toBe(4);
    expect(reporters(lines, 12)).toBe(3);
    expect(reporters(lines, 20)).toBe(3);
    expect(reporters(lines, 21)).toBe(4);
    // The replacement starts from the global parameters of step 20, not from scratch: its first
    // loss is as low as the others' (a fresh model's is ln 4 = 1.39 on these 4 classes).
    const firstLoss = trainLines(lines).find((l) => l['step'] === 1)!['lossByWorker'] as number[];
    const back = trainLines(lines).find((l) => l['step'] === 21)!['lossByWorker'] as number[];
    expect(Math.min(...firstLoss)).toBeGreaterThan(1);
    expect(Math.max(...back)).toBeLessThan(0.05);
    expect(json<{ finalLoss: number }>(join(inproc, 'summary.json')).finalLoss).toBeLessThan(0.5);
    expect(deterministicMetrics(await runIn('ws'))).toEqual(lines);
  });

  it('after a virtual time, as the master decides it: identical over ws and in process; a replacement that never joins ends with the run', async () => {
    const base = tmp();
    const runIn = async (name: string, rejoin: string, transport: string) => {
      const dir = join(base, name);
      const r = await dtemuHere(['run', FILE, '--out', dir, '--quiet', '--set', 'train.steps=130', '--set', `faults=[{kind: crash, worker: 4, at: 100, rejoin: "${rejoin}"}]`, '--set', `transport.kind=${transport}`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return dir;
    };
    const ws = deterministicMetrics(await runIn('ws', '0.5 s', 'ws'));
    expect(deterministicMetrics(await runIn('inproc', '0.5 s', 'inproc'))).toEqual(ws);
    const train = trainLines(ws);
    const back = train.find((l) => (l['step'] as number) > 100 && (l['lossByWorker'] as number[]).length === 6)!['step'] as number;
    expect(train.filter((l) => (l['step'] as number) >= 100 && (l['step'] as number) < back).every((l) => (l['lossByWorker'] as number[]).length === 5)).toBe(true);
    // The first round it missed is step 100's; it joins after the first round ending 0.5 s later
    // (train lines carry the model's arrival at the last worker: the same offset every step, to
    // one message's serialization).
    const t = (s: number) => train.find((l) => l['step'] === s)!['simTimeSec'] as number;
    expect(t(back - 1) - t(100)).toBeGreaterThan(0.5 - 1e-3);
    expect(t(back - 2) - t(100)).toBeLessThan(0.5 + 1e-3);

    const neverDir = await runIn('never', '100 s', 'ws');
    expect(trainLines(deterministicMetrics(neverDir)).filter((l) => (l['step'] as number) >= 100).every((l) => (l['lossByWorker'] as number[]).length === 5)).toBe(true);
    const m = json<{ processes: { ranks: number[] }[] }>(join(neverDir, 'manifest.json'));
    expect(m.processes.filter((p) => p.ranks.includes(4))).toHaveLength(2); // its replacement started, then was told the run ended
  });

  it('is refused at load time where nothing carries on without the worker', async () => {
    const r = await dtemuHere(['validate', FILE, '--set', 'optimizer={kind: allreduce-sgd, lr: 0.5}', '--set', 'topology.kind=ring', '--set', 'faults=[{kind: crash, worker: 4, at: 10, rejoin: 5}]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/faults\.0\.rejoin: expected rejoin only with gradient-coding or diloco on a star/);
  });
});
