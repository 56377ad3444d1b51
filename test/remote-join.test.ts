import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicMetrics, dtemu, dtemuAsync, tmp } from './helpers/cli.ts';

describe('workers joining with `dtemu worker --join` (transport.spawn=false)', () => {
  it('the coordinator prints the join command, admits workers with the token, and matches a spawned run', async () => {
    const base = tmp();
    const dir = join(base, 'remote');
    const coord = dtemuAsync(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', '--set', 'transport.spawn=false', '--set', 'transport.processes=2']);
    let stderr = '';
    const joinLine = await new Promise<string>((resolve, reject) => {
      coord.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /dtemu worker --join ws:\/\/<this-host>:(\d+) --token ([0-9a-f]+)/.exec(stderr);
        if (m) resolve(`${m[1]} ${m[2]}`);
      });
      coord.on('exit', () => reject(new Error(`coordinator exited: ${stderr}`)));
    });
    const [port, token] = joinLine.split(' ');
    const url = `ws://127.0.0.1:${port}`;
    // An intruder without the token is refused and changes nothing.
    const intruder = dtemu(['worker', '--join', url, '--token', 'nope'], { timeoutMs: 30_000 });
    expect(intruder.code).toBe(2);
    expect(intruder.stderr).toContain('refused by the coordinator: wrong or missing run token');
    const workers = [dtemuAsync(['worker', '--join', url, '--token', token!]), dtemuAsync(['worker', '--join', url, '--token', token!])];
    const codes = await Promise.all([coord, ...workers].map((p) => new Promise<number | null>((res) => p.on('exit', (c) => res(c)))));
    expect(codes).toEqual([0, 0, 0]);

    const spawned = join(base, 'spawned');
    expect(dtemu(['run', 'test/fixtures/tiny-blobs.yaml', '--out', spawned, '--quiet', '--set', 'transport.kind=inproc']).code).toBe(0);
    expect(deterministicMetrics(dir)).toEqual(deterministicMetrics(spawned));
  });
});
