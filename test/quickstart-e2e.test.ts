import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { dtemu, json, metrics, tmp } from './helpers/cli.ts';

describe('quickstart end to end (4 ws worker processes, Fashion-MNIST MLP)', () => {
  it('reaches >= 0.80 test accuracy and writes the run-directory contract', () => {
    const dir = join(tmp(), 'quickstart');
    const r = dtemu(['run', 'experiments/quickstart.yaml', '--out', dir, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const summary = json<Record<string, unknown>>(join(dir, 'summary.json'));
    expect(summary['finalAccuracy'] as number).toBeGreaterThanOrEqual(0.8);
    expect(summary['steps']).toBe(600);
    for (const k of ['finalAccuracy', 'finalLoss', 'totalBits', 'simTimeSec', 'wallTimeSec', 'steps', 'timeToTarget']) expect(summary).toHaveProperty(k);
    const ttt = summary['timeToTarget'] as { step: number; simTimeSec: number };
    expect(ttt.step % 100).toBe(0);

    // Bits: every step each worker sends 2(n-1)/n of the dense fp32 gradient.
    const resolved = parse(readFileSync(join(dir, 'config.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(resolved['network']!['latency']).toBe('50 us');
    expect(resolved['transport']!['kind']).toBe('ws');
    const params = 784 * 128 + 128 + 128 * 10 + 10;
    const perStep = 2 * 3 * params * 4 * 8;
    const lines = metrics(dir);
    const train = lines.filter((l) => l['kind'] === 'train');
    const evals = lines.filter((l) => l['kind'] === 'eval');
    expect(train).toHaveLength(600);
    expect(evals.map((e) => e['step'])).toEqual([100, 200, 300, 400, 500, 600]);
    // Summed over workers each phase moves every element n-1 times: exact whatever the chunking.
    expect(train[599]!['bits']).toBe(600 * perStep);
    expect(summary['totalBits']).toBe(600 * perStep);
    for (const l of train) for (const k of ['step', 'simTimeSec', 'wallTimeSec', 'loss', 'bits']) expect(l).toHaveProperty(k);
    for (const l of evals) for (const k of ['step', 'simTimeSec', 'bits', 'evalLoss', 'evalAccuracy']) expect(l).toHaveProperty(k);

    // Per link: on a ring each worker sends only to its right neighbour, 2(n-1)/n of the vector per step.
    const workers = summary['workers'] as { worker: number; bytesTo: Record<string, number>; bytesSent: number }[];
    for (const w of workers) {
      expect(Object.keys(w.bytesTo)).toEqual([String((w.worker + 1) % 4)]);
      expect(w.bytesTo[String((w.worker + 1) % 4)]).toBe(w.bytesSent);
    }
    expect(workers.reduce((a, w) => a + w.bytesSent, 0) * 8).toBe(600 * perStep);

    const manifest = json<Record<string, unknown>>(join(dir, 'manifest.json'));
    expect(manifest['status']).toBe('completed');
    expect(['wasm', 'tensorflow', 'cpu']).toContain(manifest['backend']);
    // One worker process per core by default (src/runtime/process-packing.ts).
    expect((manifest['processes'] as unknown[]).length).toBe(Math.min(4, availableParallelism()));
    // The self-contained HTML report: chart.js inlined, the run's data embedded, no external fetch.
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<canvas id="acc-bits">');
    expect(html).toMatch(/Chart\.js v\d/);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('"step":600');
    for (const p of ['vs_step.png', 'vs_time.png', 'vs_bits.png']) {
      const f = join(dir, 'plots', p);
      expect(existsSync(f)).toBe(true);
      expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
    }
  });
});
