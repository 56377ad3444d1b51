import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicMetrics, dtemu, json, tmp } from './helpers/cli.ts';

/** Every bit counted: uplink (workers' sends), downlink (the server's sends) and their total. */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';
// The fixture's MLP 16-32-4: 16*32 + 32 + 32*4 + 4 = 676 fp32 values.
const D_BYTES = 676 * 4;
const STEPS = 10;

interface Summary {
  totalBits: number;
  uplinkBits: number;
  downlinkBits: number;
  serverBits: number;
  linkBits: Record<string, number>;
  steps: number;
}

function run(dir: string, ...sets: string[]) {
  const r = dtemu(['run', FIXTURE, '--out', dir, '--quiet', '--set', `train.steps=${STEPS}`, ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { lines: deterministicMetrics(dir), summary: json<Summary>(join(dir, 'summary.json')) };
}

const num = (l: Record<string, unknown>, k: string) => l[k] as number;

describe('bits: uplink, downlink, total', () => {
  const base = tmp();

  it('on a star, total = uplink + downlink, each the bytes carried each way, per link in the summary (inproc and ws)', () => {
    const inproc = run(join(base, 'in'), 'topology.kind=star', 'transport.kind=inproc');
    const ws = run(join(base, 'ws'), 'topology.kind=star', 'transport.processes=2');
    expect(ws.lines).toEqual(inproc.lines);
    // Each worker process reports the device its backend runs on (the manifest records it).
    const m = json<{ device: string; processes: { device: string }[] }>(join(base, 'ws', 'manifest.json'));
    expect(m.device).toBe('CPU (WebAssembly, one thread)');
    expect(m.processes.map((p) => p.device)).toEqual(['CPU (WebAssembly, one thread)', 'CPU (WebAssembly, one thread)']);
    for (const { lines, summary } of [inproc, ws]) {
      // Dense parameter server: every step each of 4 workers pushes d floats and gets d back.
      for (const l of lines) {
        const step = num(l, 'step');
        expect(num(l, 'uplinkBits')).toBe(step * 4 * D_BYTES * 8);
        expect(num(l, 'downlinkBits')).toBe(step * 4 * D_BYTES * 8);
        expect(num(l, 'bits')).toBe(num(l, 'uplinkBits') + num(l, 'downlinkBits'));
      }
      expect(summary.uplinkBits).toBe(STEPS * 4 * D_BYTES * 8);
      expect(summary.downlinkBits).toBe(STEPS * 4 * D_BYTES * 8);
      expect(summary.serverBits).toBe(summary.downlinkBits);
      expect(summary.totalBits).toBe(summary.uplinkBits + summary.downlinkBits);
      const links: Record<string, number> = {};
      for (let w = 0; w < 4; w++) {
        links[`${w}->4`] = STEPS * D_BYTES * 8;
        links[`4->${w}`] = STEPS * D_BYTES * 8;
      }
      expect(summary.linkBits).toEqual(links);
    }
  });

  it('compressed pushes, dense replies: uplink is the compressed bytes, downlink the dense average, and the totals add up', () => {
    const { lines, summary } = run(join(base, 'c'), 'topology.kind=star', 'transport.kind=inproc', 'optimizer.kind=compressed-sgd', 'optimizer.compressor={kind: topk, ratio: 0.1}');
    const sumLinks = (pred: (from: number, to: number) => boolean) =>
      Object.entries(summary.linkBits)
        .filter(([k]) => pred(...(k.split('->').map(Number) as [number, number])))
        .reduce((a, [, v]) => a + v, 0);
    expect(summary.downlinkBits).toBe(STEPS * 4 * D_BYTES * 8);
    expect(sumLinks((from) => from === 4)).toBe(summary.downlinkBits);
    expect(sumLinks((from) => from < 4)).toBe(summary.uplinkBits);
    expect(summary.uplinkBits).toBeGreaterThan(0);
    expect(summary.uplinkBits).toBeLessThan(summary.downlinkBits / 2);
    expect(summary.totalBits).toBe(summary.uplinkBits + summary.downlinkBits);
    const last = lines.filter((l) => l['kind'] === 'train').at(-1)!;
    expect(num(last, 'bits')).toBe(summary.totalBits);
    expect(num(last, 'uplinkBits')).toBe(summary.uplinkBits);
  });

  it('on a ring every byte is worker to worker: all uplink, downlink 0', () => {
    const { lines, summary } = run(join(base, 'r'), 'transport.kind=inproc');
    // Ring all-reduce: each worker sends 2 (n-1) chunks of d/n floats per step.
    for (const l of lines) {
      expect(num(l, 'downlinkBits')).toBe(0);
      expect(num(l, 'bits')).toBe(num(l, 'uplinkBits'));
      expect(num(l, 'uplinkBits')).toBe(num(l, 'step') * 4 * 2 * 3 * (676 / 4) * 4 * 8);
    }
    expect(summary.downlinkBits).toBe(0);
    expect(summary.totalBits).toBe(summary.uplinkBits);
    expect(Object.keys(summary.linkBits).sort()).toEqual(['0->1', '1->2', '2->3', '3->0']);
  });
});
