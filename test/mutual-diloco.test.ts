import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { readTimeline } from '../src/plot/timeline-plots.ts';
import { deterministicMetrics, json, tmp } from './helpers/cli.ts';

/*
 * Streaming DiLoCo's fragments in flight together on a switch (unit-timed ring all-reduces under
 * max-min): each fragment's arrival is decided at its merge, max-min with the fragments sent
 * before it (src/sim/unit-scheduler.ts). The same metrics in one process and over ws in two;
 * against first come first served (every collective decided when entered: the runtime's options
 * without `deferAsUnit`, switched on here for the in-process coordinator only), the earlier
 * fragment of an overlapping pair arrives later and the run takes longer.
 */
const fcfs = vi.hoisted(() => ({ on: false }));
vi.mock('../src/runtime/collective-setup.ts', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../src/runtime/collective-setup.ts')>();
  return {
    ...mod,
    collectiveOptionsOf: (...args: Parameters<typeof mod.collectiveOptionsOf>) => {
      const o = mod.collectiveOptionsOf(...args);
      if (fcfs.on) delete o.deferAsUnit;
      return o;
    },
  };
});

function experiment(dir: string): string {
  const file = join(dir, 'exp.yaml');
  // 4 workers, logistic regression (68 parameters, 2 fragments of 34 floats), H = 4, tau = 3:
  // fragment 1 (sent at steps 6, 10) leaves while fragment 0 (sent at 4, 8, 12; merged 3 steps
  // later) is still in flight: 0.2 Mb/s makes each all-reduce (~8 ms) longer than a step.
  writeFileSync(
    file,
    `name: mutual-diloco
seed: 2
workers: 4
backend: wasm
data: { dataset: blobs, samples: 800, testSamples: 200, features: 16, classes: 4, batchSize: 16 }
model: { kind: logistic }
optimizer: { kind: diloco, innerOptimizer: sgd, lr: 0.1, localSteps: 4, fragments: 2, overlap: 3, outerLr: 0.7, outerMomentum: 0.9 }
topology: { kind: switch }
network: { bandwidth: 0.2 Mb/s, latency: 1 ms }
compute: { speed: 10 MFLOP/s }
train: { steps: 14, evalEvery: 7 }
`,
  );
  return file;
}

async function run(sets: string[]) {
  const dir = tmp();
  const out = join(dir, 'run');
  await runExperiment(loadConfig(experiment(dir), { sets }), { outDir: out });
  return { det: deterministicMetrics(out), summary: json<{ simTimeSec: number; finalAccuracy: number }>(join(out, 'summary.json')), timeline: readTimeline(out) };
}

describe('Streaming DiLoCo: fragments in flight share the switch max-min', () => {
  it('identical metrics and timelines in process and over ws (2 processes); later than first come first served', async () => {
    // Packings: all 4 workers in this process; 2 worker processes of 2 over ws (every packing of
    // the collectives themselves: test/mutual-collectives.test.ts).
    const inproc = await run(['transport.kind=inproc']);
    const ws2 = await run(['transport.processes=2']);
    expect(ws2.det).toEqual(inproc.det);
    expect(ws2.timeline).toEqual(inproc.timeline);
    fcfs.on = true;
    const first = await run(['transport.kind=inproc']);
    fcfs.on = false;
    // Every fragment's in-flight interval is in the timeline: reported by the step that merges it
    // (which ends after its arrival) when deferred, by the step that sent it (at the end of its
    // compute) under first come first served.
    const intervals = (t: typeof inproc.timeline) => t.filter((e) => e.worker === 0).flatMap((e) => e.background ?? []);
    const mm = intervals(inproc.timeline);
    const ff = intervals(first.timeline);
    expect(mm).toHaveLength(ff.length);
    expect(mm.length).toBeGreaterThan(3);
    for (const e of inproc.timeline) for (const [, arrives] of e.background ?? []) expect(e.end).toBeGreaterThanOrEqual(arrives);
    for (const e of first.timeline) for (const [sent] of e.background ?? []) expect(sent).toBe(e.delayEnd);
    // Fragment 0 (sent at step 4) shares with fragment 1 (sent at step 6, before fragment 0's
    // merge at step 7): under max-min it arrives later than with the links to itself.
    expect(mm[0]![0]).toBe(ff[0]![0]);
    expect(mm[0]![1]).toBeGreaterThan(ff[0]![1]);
    // A merge that waits longer delays what follows: the run ends later.
    expect(inproc.summary.simTimeSec).toBeGreaterThan(first.summary.simTimeSec);
    expect(first.det).not.toEqual(inproc.det);
  }, 60_000);
});
