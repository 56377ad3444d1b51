import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemuAsync, json, tmp } from './helpers/cli.ts';

async function until<T>(f: () => T | null | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a worker process killed mid-run', () => {
  it('stops the run within 10 s, names the worker, keeps metrics parseable, exits non-zero', async () => {
    const dir = join(tmp(), 'run');
    const child = dtemuAsync(['run', 'test/fixtures/long-fmnist.yaml', '--out', dir, '--quiet', '--set', 'transport.processes=4']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));

    const manifest = await until(() => {
      if (!existsSync(join(dir, 'manifest.json'))) return null;
      const m = json<{ processes: { pid: number; ranks: number[] }[] }>(join(dir, 'manifest.json'));
      return m.processes.length === 4 ? m : null;
    }, 60_000);
    await until(() => existsSync(join(dir, 'metrics.jsonl')) && readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').length > 20, 60_000);

    const victim = manifest.processes[2]!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const { code, at } = await exited;

    expect(at - killedAt).toBeLessThan(10_000);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(new RegExp(`worker process 2 \\(pid ${victim.pid}, worker ${victim.ranks[0]}\\) was killed by SIGKILL`));
    expect(stderr.trim().split('\n')).toHaveLength(1);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBeGreaterThanOrEqual(20);
    const steps = lines.map((l) => JSON.parse(l) as { kind: string; step: number }).filter((l) => l.kind === 'train').map((l) => l.step);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    const m = json<{ status: string; error: string }>(join(dir, 'manifest.json'));
    expect(m.status).toBe('failed');
    expect(m.error).toContain('SIGKILL');
    // No orphaned worker processes.
    for (const p of manifest.processes) {
      expect(() => process.kill(p.pid, 0)).toThrow();
    }
  });
});
