import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';
import { chromeTrace } from '../src/plot/chrome-trace.ts';
import { curvesOf } from '../src/plot/plot-inputs.ts';
import { plotGroups } from '../src/plot/run-plots.ts';
import { groupCurve } from '../src/plot/seed-aggregate.ts';
import { ringTopology } from '../topologies/ring.ts';
import { dtemu, json, metrics, tmp } from './helpers/cli.ts';

const SWEEP = `name: seeds
seed: 5
workers: 2
data: { dataset: blobs, samples: 1000, testSamples: 300, features: 8, classes: 3, noise: 2, batchSize: 16 }
model: { kind: mlp, hidden: [8] }
optimizer: { kind: allreduce-sgd, lr: 0.05 }
transport: { kind: inproc }
stragglers: { delay: { kind: shifted-exponential, shift: 1 ms, mean: 5 ms } }
train: { steps: 400, evalEvery: 10 }
sweep:
  seeds: [1, 2, 3]
  parallel: 3
`;

/** Well-formedness of the SVG's markup: one <svg> root in the SVG namespace, every tag closed in order. */
function parseSvg(text: string): { width: number; height: number; elements: Map<string, number> } {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  const elements = new Map<string, number>();
  let rootAttrs = '';
  let last = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g)) {
    // Only whitespace or character data between tags; no stray '<'.
    expect(body.slice(last, m.index)).not.toContain('<');
    last = m.index + m[0].length;
    const [, close, name, attrs, selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else {
      if (stack.length === 0) {
        expect(elements.size).toBe(0); // a single root
        rootAttrs = attrs!;
      }
      elements.set(name!, (elements.get(name!) ?? 0) + 1);
      if (!selfClose) stack.push(name!);
    }
  }
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect([...elements.keys()][0]).toBe('svg');
  expect(rootAttrs).toContain('xmlns="http://www.w3.org/2000/svg"');
  const attr = (k: string) => Number(new RegExp(`\\b${k}="([\\d.]+)"`).exec(rootAttrs)?.[1]);
  return { width: attr('width'), height: attr('height'), elements };
}

describe('outputs for papers', () => {
  it('a seed sweep: mean and band contain every seed, aggregate rows in sweep.csv, SVG/PDF plots of the sweep directory, unknown format refused', () => {
    const dir = tmp();
    const file = join(dir, 'seeds.yaml');
    writeFileSync(file, SWEEP);
    const out = join(dir, 'sweep');
    // --set applies to every point.
    const r = dtemu(['sweep', file, '--out', out, '--quiet', '--set', 'train.steps=50']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runs = readdirSync(out).filter((d) => /^\d{3}_/.test(d)).sort();
    expect(runs).toEqual(['001_seed=1', '002_seed=2', '003_seed=3']);
    for (const d of runs) expect(json<{ steps: number }>(join(out, d, 'summary.json')).steps).toBe(50);

    // sweep.csv: the three runs, then mean / std / min / max over them.
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const col = csv[0]!.indexOf('finalLoss');
    const seedCol = csv[0]!.indexOf('seed');
    const losses = csv.slice(1, 4).map((row) => Number(row[col]));
    const agg = Object.fromEntries(csv.slice(4).map((row) => [row[seedCol], Number(row[col])]));
    expect(Object.keys(agg)).toEqual(['mean', 'std', 'min', 'max']);
    const mean = losses.reduce((a, b) => a + b, 0) / 3;
    expect(agg['mean']).toBeCloseTo(mean, 12);
    expect(agg['std']).toBeCloseTo(Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / 2), 12);
    expect(agg['min']).toBe(Math.min(...losses));
    expect(agg['max']).toBe(Math.max(...losses));

    // The plotted band contains every seed's curve, at every evaluation, for loss and accuracy.
    const groups = curvesOf([out]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.runs).toHaveLength(3);
    for (const y of ['loss', 'accuracy'] as const) {
      const c = groupCurve(groups[0]!, 'step', y);
      expect(c.points).toHaveLength(5);
      let spread = 0;
      for (const d of runs) {
        const evals = metrics(join(out, d)).filter((l) => l['kind'] === 'eval');
        expect(evals).toHaveLength(5);
        evals.forEach((e, i) => {
          const v = (y === 'loss' ? e['evalLoss'] : e['evalAccuracy']) as number;
          expect(c.points[i]!.x).toBe(e['step']);
          expect(v).toBeGreaterThanOrEqual(c.band!.lower[i]!.y);
          expect(v).toBeLessThanOrEqual(c.band!.upper[i]!.y);
          spread += c.band!.upper[i]!.y - c.band!.lower[i]!.y;
        });
      }
      expect(spread).toBeGreaterThan(0); // the seeds differ: the band is not a line
    }

    // dtemu plot on the sweep directory: SVG (title and label), PDF; an unknown extension exits 2.
    const svg = join(dir, 'loss.svg');
    const p = dtemu(['plot', out, '--y', 'loss', '--x', 'time', '--out', svg, '--title', 'Three seeds', '--label', 'sgd']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const parsed = parseSvg(readFileSync(svg, 'utf8'));
    expect(parsed.width).toBe(900);
    expect(parsed.height).toBe(540);
    expect(parsed.elements.get('path') ?? 0).toBeGreaterThan(20); // axes, grid, curves, text as paths
    // (In process from here: each CLI start costs seconds.)
    const pdf = join(dir, 'loss.pdf');
    plotGroups(groups, 'bits', 'accuracy', pdf);
    const pdfBytes = readFileSync(pdf);
    expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfBytes.toString('latin1')).toContain('DejaVuSans'); // the shipped font, embedded
    const bad = dtemu(['plot', out, '--out', join(dir, 'loss.jpg')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`dtemu: ${join(dir, 'loss.jpg')}: cannot write a plot as ".jpg"; expected a file ending in .png, .svg or .pdf`);
    expect(() => curvesOf([out], ['a', 'b'])).toThrow(/^plot --label: expected 1 labels \(one per curve: base\), found 2$/);

    // report.html (run and sweep): the page's own script compiles; numbers carry units; the config is shown.
    for (const html of [join(out, runs[0]!, 'report.html'), join(out, 'report.html')]) {
      const text = readFileSync(html, 'utf8');
      const scripts = [...text.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
      expect(scripts).toHaveLength(2); // chart.js, then the page's
      expect(() => new Script(scripts[1]!)).not.toThrow();
      expect(text).toMatch(/<td>final test accuracy<\/td>|<th>final test accuracy<\/th>/);
      expect(text).toMatch(/\d+\.\d{2} %<\/td>/);
      expect(text).toMatch(/ kbit \([\d.]+ kB\)<\/td>/);
    }
    expect(readFileSync(join(out, runs[0]!, 'report.html'), 'utf8')).toContain('<h2>Resolved configuration (config.yaml)</h2><pre>name: seeds\nseed: 1\n');
    // The sweep's report.html draws the 3 seeds as one curve: their mean, with the min-max band (groupCurve, as plots/).
    const sweepHtml = readFileSync(join(out, 'report.html'), 'utf8');
    const pageGroups = JSON.parse(/const groups = (.*);\n/.exec(sweepHtml)![1]!) as { label: string; seeds: number; curves: Record<string, unknown> }[];
    expect(pageGroups.map((g) => g.seeds)).toEqual([3]);
    for (const x of ['bits', 'time', 'step'] as const) {
      for (const y of ['loss', 'accuracy'] as const) {
        const c = groupCurve(curvesOf([out])[0]!, x, y);
        expect(c.band).toBeDefined();
        expect(pageGroups[0]!.curves[`${x}|${y}`]).toEqual(c);
      }
    }
    expect(sweepHtml).toContain("fill: '-1'");

    // trace.json: one complete event per non-empty timeline interval, one track per worker.
    const run = join(out, runs[0]!);
    const timeline = readFileSync(join(run, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TimelineEvent);
    const trace = json<{ traceEvents: { ph: string; cat?: string; tid: number; ts: number; dur: number; name: string; args: Record<string, unknown> }[] }>(join(run, 'trace.json'));
    // Worker tracks (the link tracks' events, cat 'link', are checked in test/trace-links.test.ts).
    const complete = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat !== 'link');
    expect(trace.traceEvents.filter((e) => e.cat === 'link')).toHaveLength(timeline.reduce((s, e) => s + (e.transfers ?? []).length, 0));
    const intervals = timeline.flatMap((e) => [
      [e.start, e.computeEnd],
      [e.computeEnd, e.delayEnd],
      [e.delayEnd, e.end],
    ]).filter(([a, b]) => b! > a!);
    expect(complete).toHaveLength(intervals.length);
    expect(new Set(complete.map((e) => e.tid))).toEqual(new Set([0, 1]));
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args['name']);
    expect(names.slice(0, 2)).toEqual(['worker 0', 'worker 1']);
    const w1 = timeline.find((e) => e.worker === 1 && e.step === 7)!;
    const c7 = complete.find((e) => e.tid === 1 && e.args['step'] === 7 && e.name === 'compute')!;
    expect(c7.ts).toBeCloseTo(w1.start * 1e6, 6);
    expect(c7.dur).toBeCloseTo((w1.computeEnd - w1.start) * 1e6, 6);
  });

  it('trace.json puts transfers in flight on their own track per worker, one event each', () => {
    const events: TimelineEvent[] = [
      { step: 1, worker: 0, start: 0, computeEnd: 1, delayEnd: 1, end: 1.5, background: [[1.5, 3]] },
      { step: 1, worker: 1, start: 0, computeEnd: 1, delayEnd: 1.2, end: 1.5 },
      { step: 2, worker: 0, start: 1.5, computeEnd: 2.5, delayEnd: 2.5, end: 2.5, background: [[2.5, 4], [2.6, 4.2]] },
    ];
    const t = chromeTrace(events, 2, 'x');
    const x = t.traceEvents.filter((e) => e.ph === 'X');
    // worker 0: compute, comm, compute (step 2 has no comm); worker 1: compute, delay, comm; 3 in flight.
    expect(x.map((e) => [e.tid, e.name])).toEqual([
      [0, 'compute'],
      [0, 'communication'],
      [2, 'transfer in flight'],
      [1, 'compute'],
      [1, 'delay / stall'],
      [1, 'communication'],
      [0, 'compute'],
      [2, 'transfer in flight'],
      [2, 'transfer in flight'],
    ]);
    expect(t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args!['name']])).toEqual([
      [0, 'worker 0'],
      [1, 'worker 1'],
      [2, 'worker 0: in flight'],
    ]);
    expect(x[2]).toMatchObject({ ts: 1.5e6, dur: 1.5e6 });
  });
  it('trace.json takes a run with more link events than the call stack has argument slots', () => {
    // 16 workers x 400 steps of a ring all-reduce: 2 * 16 * 15 messages a step, 192,000 link events.
    const n = 16;
    const steps = 400;
    const events: TimelineEvent[] = [];
    for (let step = 1; step <= steps; step++) {
      for (let w = 0; w < n; w++) {
        const transfers: [number, number, number, number][] = [];
        for (let k = 0; k < 2 * (n - 1); k++) transfers.push([(w + 1) % n, 100, step + k * 1e-3, step + (k + 1) * 1e-3]);
        events.push({ step, worker: w, start: step, computeEnd: step + 0.1, delayEnd: step + 0.1, end: step + 0.2, transfers });
      }
    }
    const t = chromeTrace(events, n, 'big', ringTopology(n, { bandwidth: 1e9, latency: 5e-5 }));
    const onLinks = t.traceEvents.filter((e) => e.ph === 'X' && e.args?.['from'] !== undefined);
    expect(onLinks).toHaveLength(steps * n * 2 * (n - 1));
  });
});
