import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timelineWindow } from '../src/plot/timeline-window.ts';
import { StragglerModel } from '../src/sim/stragglers.ts';
import { dtemu, json, tmp } from './helpers/cli.ts';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';

type Ev = TimelineEvent;

describe('timeline (Gantt data) and time breakdown', () => {
  it('places compute, injected delays and communication exactly, and the breakdown adds up to the simulated time', () => {
    const dir = join(tmp(), 'run');
    const r = dtemu(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', '--set', 'transport.kind=inproc']);
    expect(r.code).toBe(0);
    const events = readFileSync(join(dir, 'timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Ev);
    expect(events).toHaveLength(40 * 4);
    // tiny-blobs: MLP 16-32-4, batch 16, 10 GFLOP/s, worker 2 three times slower, delays 1 ms + Exp(5 ms).
    const flops = 2 * (16 * 32 + 32 * 4);
    const base = (3 * flops * 16) / 10e9;
    const delays = new StragglerModel({ slow: [], delay: { kind: 'shifted-exponential', shift: 0.001, mean: 0.005 } }, 5);
    const tol = 1e-9;
    for (let w = 0; w < 4; w++) {
      const mine = events.filter((e) => e.worker === w).sort((a, b) => a.step - b.step);
      expect(mine[0]!.start).toBeCloseTo(0, 12);
      mine.forEach((e, i) => {
        expect(Math.abs(e.computeEnd - e.start - base * (w === 2 ? 3 : 1))).toBeLessThan(tol);
        expect(Math.abs(e.delayEnd - e.computeEnd - delays.delay(w, e.step))).toBeLessThan(tol);
        expect(e.end).toBeGreaterThanOrEqual(e.delayEnd);
        // Synchronous SGD: the next step starts the moment this one's all-reduce ends.
        if (i > 0) expect(Math.abs(e.start - mine[i - 1]!.end)).toBeLessThan(tol);
      });
    }
    const s = json<{ simTimeSec: number; workers: { computeSec: number; delaySec: number; commSec: number; waitSec: number }[] }>(join(dir, 'summary.json'));
    for (const b of s.workers) expect(b.computeSec + b.delaySec + b.commSec + b.waitSec).toBeCloseTo(s.simTimeSec, 9);
    for (const p of ['timeline.png', 'breakdown.png']) expect(readFileSync(join(dir, 'plots', p)).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('the Gantt window', () => {
  it('shows crashed workers as down from their last step to their replacement\'s first (or the end), around the first crash', () => {
    const ev = (step: number, worker: number): TimelineEvent => ({ step, worker, start: step - 1, computeEnd: step - 0.5, delayEnd: step - 0.5, end: step });
    const events: TimelineEvent[] = [];
    for (let s = 1; s <= 100; s++) {
      events.push(ev(s, 0));
      if (s < 30 || s >= 40) events.push(ev(s, 1)); // down for steps 30-39, back at 40
      if (s < 50) events.push(ev(s, 2)); // down from step 50 to the end
    }
    const w = timelineWindow(events, 3, 60);
    expect([w.from, w.to]).toEqual([20, 79]);
    expect(w.shown.every((e) => e.step >= 20 && e.step <= 79)).toBe(true);
    // Clipped to the window's time span [19, 79].
    expect(w.down).toEqual([
      { worker: 1, start: 29, end: 39 },
      { worker: 2, start: 49, end: 79 },
    ]);
    expect(timelineWindow(events.filter((e) => e.worker === 0), 1, 60)).toMatchObject({ from: 1, to: 60, down: [] });
    // A crash at step 1 (back at step 6), a worker that never ran, and a late crash (step 95).
    const late = events.filter((e) => e.worker === 0 && e.step < 95);
    const early = events.filter((e) => e.worker === 0).map((e) => ({ ...e, worker: 1 })).filter((e) => e.step >= 6);
    const v = timelineWindow([...events.filter((e) => e.worker === 0), ...early], 3, 60);
    expect(v.from).toBe(1);
    expect(v.down).toEqual([
      { worker: 1, start: 0, end: 5 },
      { worker: 2, start: 0, end: 60 },
    ]);
    const full = events.filter((e) => e.worker === 0).map((e) => ({ ...e, worker: 1 }));
    expect(timelineWindow([...late, ...full], 2, 60)).toMatchObject({ from: 41, to: 100, down: [{ worker: 0, start: 94, end: 100 }] });
  });
});
