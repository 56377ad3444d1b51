import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { deterministicMetrics, dtemu, dtemuAsync, json, tmp } from './helpers/cli.ts';

const FILE = 'experiments/faults/crash-coded.yaml';

describe('a crash from the fault timeline', () => {
  it('kills the real worker process in ws mode; the coded run goes on, identical to the in-process run', () => {
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
    expect(dtemu(['run', FILE, '--out', inproc, '--quiet', '--set', 'train.steps=120', '--set', 'transport.kind=inproc']).code).toBe(0);
    expect(deterministicMetrics(inproc)).toEqual(lines);
  });

  it('gradient coding rejects crashing worker 0 or more workers than it tolerates, at load time', () => {
    const base = tmp();
    const zero = dtemu(['run', FILE, '--out', join(base, 'a'), '--set', 'faults=[{kind: crash, worker: 0, at: 5}]']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('faults.0.worker: expected a worker other than 0 (worker 0 evaluates the model)');
    const many = dtemu(['run', FILE, '--out', join(base, 'b'), '--set', 'faults=[{kind: crash, worker: 1, at: 5}, {kind: crash, worker: 2, at: 6}, {kind: crash, worker: 3, at: 7}]']);
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

  it('stops synchronous SGD with an error naming the worker, in process and over ws', () => {
    const base = tmp();
    for (const t of ['inproc', 'ws']) {
      const r = dtemu(['run', FILE, '--out', join(base, t), '--quiet', '--set', 'optimizer.kind=allreduce-sgd', '--set', 'topology.kind=ring', '--set', `transport.kind=${t}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/worker (process 4 \(pid \d+, worker 4\) was killed by SIGKILL: crashed|4 crashed) .*step 100.*allreduce-sgd cannot continue without it/);
      expect(json<{ status: string }>(join(base, t, 'manifest.json')).status).toBe('failed');
    }
  });
});
