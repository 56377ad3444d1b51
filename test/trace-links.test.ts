import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { dtemu, json, tmp } from './helpers/cli.ts';

/** trace.json's link tracks: every message a worker sent, on each link of its route. */
const FIXTURE = 'test/fixtures/tiny-blobs.yaml';
const STEPS = 3;

interface Ev {
  ph: string;
  tid: number;
  ts: number;
  dur: number;
  name: string;
  cat?: string;
  args: Record<string, unknown>;
}

function run(dir: string, ...sets: string[]): { timeline: TimelineEvent[]; raw: string; trace: Ev[] } {
  const r = dtemu(['run', FIXTURE, '--out', dir, '--quiet', '--set', `train.steps=${STEPS}`, '--set', `train.evalEvery=${STEPS}`, ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const raw = readFileSync(join(dir, 'timeline.jsonl'), 'utf8');
  const timeline = raw.trim().split('\n').map((l) => JSON.parse(l) as TimelineEvent);
  return { timeline, raw, trace: json<{ traceEvents: Ev[] }>(join(dir, 'trace.json')).traceEvents };
}

describe('trace.json link tracks', () => {
  const base = tmp();

  it('a 4-worker ring: 2(n-1) messages per worker per all-reduce, each on its link with its send and arrival; ws records the same transfers', () => {
    const n = 4;
    const { timeline, raw, trace } = run(join(base, 'inproc'), 'transport.kind=inproc');
    // Worker tracks: one 'X' event per non-empty timeline interval.
    const workerX = trace.filter((e) => e.ph === 'X' && e.cat !== 'link');
    const intervals = timeline.flatMap((e) => [[e.start, e.computeEnd], [e.computeEnd, e.delayEnd], [e.delayEnd, e.end]]).filter(([a, b]) => b! > a!);
    expect(workerX).toHaveLength(intervals.length);
    expect(new Set(workerX.map((e) => e.tid))).toEqual(new Set([0, 1, 2, 3]));

    // Transfers: 2(n-1) per worker per step, all to the ring neighbour.
    for (const e of timeline) {
      expect(e.transfers).toHaveLength(2 * (n - 1));
      for (const [to, bytes, send, arrival] of e.transfers!) {
        expect(to).toBe((e.worker + 1) % n);
        expect(bytes).toBeGreaterThan(0);
        expect(arrival).not.toBeNull();
        expect(arrival!).toBeGreaterThan(send);
      }
    }
    const links = trace.filter((e) => e.ph === 'X' && e.cat === 'link');
    expect(links).toHaveLength(n * STEPS * 2 * (n - 1));
    const names = new Map(trace.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args['name']]));
    const expected = timeline.flatMap((e) => e.transfers!.map(([to, bytes, send, arrival]) => ({ link: `link ${e.worker}->${to}`, from: e.worker, to, bytes, step: e.step, send, arrival: arrival! })));
    const got = links.map((e) => ({ link: names.get(e.tid), from: e.args['from'], to: e.args['to'], bytes: e.args['bytes'], step: e.args['step'], send: e.ts / 1e6, arrival: (e.ts + e.dur) / 1e6 }));
    const key = (x: { link: unknown; step: unknown; send: number }) => `${String(x.link)}|${String(x.step)}|${x.send.toFixed(12)}`;
    const sort = <T extends { link: unknown; step: unknown; send: number }>(a: T[]) => [...a].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    const [g, x] = [sort(got), sort(expected)];
    for (let i = 0; i < x.length; i++) {
      expect(g[i]!.link).toBe(x[i]!.link);
      expect([g[i]!.from, g[i]!.to, g[i]!.bytes, g[i]!.step]).toEqual([x[i]!.from, x[i]!.to, x[i]!.bytes, x[i]!.step]);
      expect(g[i]!.send).toBeCloseTo(x[i]!.send, 9);
      expect(g[i]!.arrival).toBeCloseTo(x[i]!.arrival, 9);
    }
    expect(new Set(links.map((e) => names.get(e.tid)))).toEqual(new Set(['link 0->1', 'link 1->2', 'link 2->3', 'link 3->0']));

    // Over ws (routed messages, validated reports) the timeline, transfers included, is identical.
    const ws = run(join(base, 'ws'), 'transport.kind=ws', 'transport.processes=2');
    expect(ws.raw).toBe(raw);
  }, 120_000);
  it("a star: the master's replies appear on the server's egress link, their bytes adding up to the run's downlink", () => {
    const n = 4;
    const dir = join(base, 'star');
    const { trace } = run(dir, 'transport.kind=inproc', 'topology.kind=star');
    const names = new Map(trace.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, String(e.args['name'])]));
    const links = trace.filter((e) => e.ph === 'X' && e.cat === 'link');
    const out = links.filter((e) => names.get(e.tid) === 'link server-out');
    const inbound = links.filter((e) => names.get(e.tid) === 'link server-in');
    const summary = json<{ downlinkBits: number; uplinkBits: number }>(join(dir, 'summary.json'));
    // One reply per worker per step, from the master (rank n), with a real duration.
    expect(out).toHaveLength(n * STEPS);
    for (const e of out) {
      expect(e.args['from']).toBe(n);
      expect(e.dur).toBeGreaterThan(0);
    }
    expect(out.reduce((a, e) => a + (e.args['bytes'] as number), 0) * 8).toBe(summary.downlinkBits);
    expect(inbound.reduce((a, e) => a + (e.args['bytes'] as number), 0) * 8).toBe(summary.uplinkBits);
  }, 60_000);
});
