import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemuAsync, json, tmp } from './helpers/cli.ts';

describe('Ctrl-C', () => {
  it('stops an in-process run promptly with exit code 130 and an interrupted manifest', async () => {
    const dir = join(tmp(), 'run');
    const child = dtemuAsync(['run', 'test/fixtures/long-fmnist.yaml', '--out', dir, '--quiet', '--set', 'transport.kind=inproc']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
    const deadline = Date.now() + 60_000;
    while (!(existsSync(join(dir, 'metrics.jsonl')) && readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').length > 50)) {
      if (Date.now() > deadline) throw new Error('no metrics');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sentAt = Date.now();
    child.kill('SIGINT');
    const { code, at } = await exited;
    expect(code).toBe(130);
    expect(at - sentAt).toBeLessThan(5000);
    expect(stderr).toContain('interrupted (Ctrl-C)');
    const m = json<{ status: string; error: string }>(join(dir, 'manifest.json'));
    expect(m.status).toBe('interrupted');
    expect(m.error).toContain('interrupted (Ctrl-C)');
  });
});
