import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicMetrics, dtemu, json, tmp } from './helpers/cli.ts';

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
