import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, json, metrics, tmp } from './helpers/cli.ts';

describe('progress when not on a terminal', () => {
  it('prints one line per evaluation, then the summary (uplink/downlink split on a star)', () => {
    const dir = join(tmp(), 'run');
    const r = dtemu(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--set', 'transport.kind=inproc', '--set', 'topology.kind=star']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const evals = metrics(dir).filter((l) => l['kind'] === 'eval');
    expect(evals.map((e) => e['step'])).toEqual([10, 20, 30, 40]);
    const mb = (b: unknown) => ((b as number) / 8e6).toFixed(1);
    const expected = evals.map(
      (e) =>
        `step ${e['step']}: test loss ${(e['evalLoss'] as number).toFixed(4)}, acc ${(100 * (e['evalAccuracy'] as number)).toFixed(2)}%, ` +
        `sim ${(e['simTimeSec'] as number).toFixed(3)} s, ${mb(e['bits'])} MB sent (up ${mb(e['uplinkBits'])}, down ${mb(e['downlinkBits'])})`,
    );
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(expected);
    const s = json<{ totalBits: number; uplinkBits: number; downlinkBits: number }>(join(dir, 'summary.json'));
    expect(lines[4]).toMatch(new RegExp(`^tiny-blobs: 40 steps, test accuracy [\\d.]+%, test loss [\\d.]+, simulated [\\d.]+ s, ${mb(s.totalBits)} MB sent \\(up ${mb(s.uplinkBits)}, down ${mb(s.downlinkBits)}\\), wall [\\d.]+ s$`));
    expect(lines[5]).toBe(`results in ${dir}`);
    expect(lines).toHaveLength(6);
    // The manifest records the device the backend reports.
    expect(json<{ backend: string; device: string }>(join(dir, 'manifest.json'))).toMatchObject({ backend: 'wasm', device: 'CPU (WebAssembly, one thread)' });
  });
});
