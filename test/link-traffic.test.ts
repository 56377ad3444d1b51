import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { writeRunReport } from '../src/plot/html-report.ts';
import { runLinkTraffic } from '../src/plot/link-traffic.ts';
import { buildTopology } from '../topologies/index.ts';

/** report.html's link section: the bytes each link carried over the run, busy fraction, per time bin. */
const event = (worker: number, step: number, transfers: [number, number, number, number | null][]): TimelineEvent => ({ worker, step, start: 0, computeEnd: 0, delayEnd: 0, end: 0, transfers });

describe('link traffic of a run', () => {
  it('puts every recorded message on each link of its route: bytes, busy fraction and bins are exact', () => {
    const B = 1e6;
    // A 4-ring: 0->1 direct; 0->2 goes 0->1->2 (two hops); the run lasts 2 s in 4 bins of 0.5 s.
    const ring = buildTopology('ring', 4, { bandwidth: B, latency: 0 });
    const r = runLinkTraffic(ring, [event(0, 1, [[1, 1000, 0.1, 0.2], [2, 500, 1.2, 1.3]]), event(1, 1, [[2, 250, 1.9, 2]]), event(1, 2, [[2, 400, 0.3, 0.8]])], [], 2, 4)!;
    const by = Object.fromEntries(r.links.map((l) => [l.link, l]));
    expect(r.binSec).toBe(0.5);
    expect(r.links.map((l) => l.link)).toEqual(['0->1', '1->2']);
    expect(by['0->1']!.bytes).toBe(1500);
    expect(by['0->1']!.perBin).toEqual([1000, 0, 500, 0]);
    // 400 bytes over [0.3, 0.8]: 2/5 in the first bin, 3/5 in the second.
    [160, 240, 500, 250].forEach((b, k) => expect(by['1->2']!.perBin[k]).toBeCloseTo(b, 9));
    expect(by['0->1']!.busy).toBe((8 * 1500) / (B * 2));
  });

  it("a star's server port: the master's replies on server-out, the pushes on server-in; one bin per step by default", () => {
    const star = buildTopology('star', 2, { bandwidth: 1e9, latency: 0 });
    const r = runLinkTraffic(star, [event(0, 1, [[2, 400, 0, Number.NaN]]), event(1, 1, [[2, 400, 0, Number.NaN]])], [[0, 400, 1, 2], [1, 400, 1, 2]], 2, 2)!;
    expect(r.links.map((l) => [l.link, l.bytes, l.perBin])).toEqual([
      ['server-in', 800, [800, 0]],
      ['server-out', 800, [0, 800]],
    ]);
    expect(runLinkTraffic(star, [event(0, 1, [])], [], 2)).toBeNull();
    const steps = Array.from({ length: 25 }, (_, s) => event(0, s + 1, [[2, 1, s, null]]));
    expect(runLinkTraffic(star, steps, [], 25)!.links[0]!.perBin.length).toBe(25);
    expect(runLinkTraffic(star, steps.slice(0, 3), [], 25)!.links[0]!.perBin.length).toBe(10);
  });

  it('report.html shows the table and both charts; its script compiles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtemu-links-'));
    const sw = buildTopology('switch', 2, { bandwidth: 1e9, latency: 0 });
    const traffic = runLinkTraffic(sw, [event(0, 1, [[1, 125000, 0, 0.001]])], [], 1, 10);
    const usage = [{ link: 'up-0', bits: 1e6, times: [0, 0.001], value: [1, 0] }];
    writeRunReport(dir, 't', [], [], [], { simTimeSec: 1 }, { traffic, allReduce: { title: 'one all-reduce', usage } });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Links</h2>');
    expect(html).toContain('<tr><td>up-0</td><td>1.00 Mbit (0.125 MB)</td><td>0.10 %</td></tr>');
    expect(html).toContain('id="link-traffic"');
    expect(html).toContain('id="link-util"');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(() => new Script(scripts[1]!)).not.toThrow();
    // No traffic recorded and no all-reduce picture: no section.
    writeRunReport(dir, 't', [], [], [], { simTimeSec: 1 }, { traffic: null, allReduce: null });
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toContain('<h2>Links</h2>');
  });
});
