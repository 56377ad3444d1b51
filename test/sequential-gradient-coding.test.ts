import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { combine, createGradientCode, encode } from '../src/coding/index.ts';
import { SelectiveReattempt, srSgcParamError, srSgcStragglers } from '../src/coding/sequential/selective-reattempt.ts';
import { loadConfig, loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { Rng } from '../src/util/rng.ts';
import { UserError } from '../src/util/user-error.ts';
import { deterministicMetrics, json, metrics, tmp } from './helpers/cli.ts';

/** Drive the scheme over `rounds` rounds: stragglers proposed by `propose`, kept only if they conform (the master's rule). */
function drive(sr: SelectiveReattempt, rounds: number, propose: (r: number) => number[]) {
  const decodedAt = new Map<number, number>();
  const tasks: Int32Array[] = [];
  const late: number[][] = [];
  let ignored = 0;
  for (let r = 1; r <= rounds; r++) {
    let st = propose(r);
    if (st.length > 0 && !(sr.conforms(r, st) && sr.outcome(r, st).complete)) st = [];
    if (st.length > 0) ignored++;
    tasks[r] = sr.tasks(r);
    late[r] = st;
    for (const job of sr.record(r, st)) decodedAt.set(job, r);
  }
  return { decodedAt, tasks, late, ignored };
}

describe('selective-reattempt sequential gradient coding (core)', () => {
  it('s = ceil(B lambda / (W - 1 + B)) and the parameter rules', () => {
    expect(srSgcStragglers({ B: 1, W: 3, lambda: 2 })).toBe(1);
    expect(srSgcStragglers({ B: 2, W: 5, lambda: 4 })).toBe(2);
    expect(srSgcStragglers({ B: 3, W: 4, lambda: 6 })).toBe(3);
    expect(srSgcParamError({ n: 6, B: 2, W: 4, lambda: 2 })?.key).toBe('W'); // 2 does not divide 3
    expect(srSgcParamError({ n: 6, B: 1, W: 3, lambda: 7 })?.key).toBe('lambda');
    expect(srSgcParamError({ n: 6, B: 1, W: 3, lambda: 2 })).toBeNull();
  });

  it('a burst plain GC (s = 1) cannot absorb: 2 stragglers in round 1, one reattempt in round 2, both jobs decode', () => {
    const sr = new SelectiveReattempt({ n: 6, B: 1, W: 3, lambda: 2 });
    expect(sr.s).toBe(1);
    expect(sr.conforms(1, [0, 1])).toBe(true);
    expect(sr.record(1, [0, 1])).toEqual([]); // job 1 has 4 < 5 tasks
    expect(Array.from(sr.tasks(2))).toEqual([1, 2, 2, 2, 2, 2]); // v - s = 1 reattempt, by id
    expect(sr.record(2, [])).toEqual([1, 2]);
    expect(sr.deliveredBy(1)).toEqual([0, 2, 3, 4, 5]);
    // Within W = 3 rounds of round 1: a third distinct straggler exceeds lambda, and worker 1
    // again would be a second burst (rounds 1 and 3 are not one burst of length <= B = 1).
    expect(sr.conforms(3, [4])).toBe(false);
    expect(sr.conforms(3, [1])).toBe(false);
    expect(sr.record(3, [])).toEqual([3]);
    expect(sr.conforms(4, [2, 3])).toBe(true); // round 1 has left the window
  });

  it('property: over n, (B, W, lambda) and random bursts within the model, every job decodes by round t + B and exactly to the serial gradient', () => {
    const rng = new Rng(11, 'sr-sgc');
    const d = 7;
    for (const [n, B, W, lambda] of [
      [4, 1, 2, 2],
      [6, 1, 3, 2],
      [6, 2, 5, 4],
      [8, 1, 3, 3],
      [9, 2, 3, 3],
      [12, 3, 4, 5],
    ] as const) {
      const sr = new SelectiveReattempt({ n, B, W, lambda });
      const code = createGradientCode('cyclic', n, sr.s, 1);
      const rounds = 60;
      const grads = (job: number, j: number) => {
        const r = new Rng(5, 'g', job, j);
        return Float32Array.from({ length: d }, () => r.normal());
      };
      const run = drive(sr, rounds, () => {
        // Bursty proposals: up to lambda workers, often more than s.
        const count = rng.next() < 0.4 ? 1 + rng.int(lambda) : 0;
        return [...new Set(Array.from({ length: count }, () => rng.int(n)))];
      });
      expect(run.ignored).toBeGreaterThan(5);
      for (let job = 1; job <= rounds - B; job++) {
        const at = run.decodedAt.get(job);
        expect(at).toBeDefined();
        expect(at!).toBeLessThanOrEqual(job + B);
      }
      // Re-run the same decisions to decode real vectors: worker i's coded vector of its task's job.
      const replay = new SelectiveReattempt({ n, B, W, lambda });
      const vectors = new Map<number, Map<number, Float32Array>>();
      for (let r = 1; r <= rounds; r++) {
        const tasks = replay.tasks(r);
        tasks.forEach((job, i) => {
          if (run.late[r]!.includes(i)) return;
          const m = vectors.get(job) ?? new Map<number, Float32Array>();
          m.set(i, encode(code, i, (j) => grads(job, j)));
          vectors.set(job, m);
        });
        for (const job of replay.record(r, run.late[r]!)) {
          const who = replay.deliveredBy(job).slice(0, n - sr.s);
          const got = combine(code.decoder(who), who.map((i) => vectors.get(job)!.get(i)!));
          const want = new Float64Array(d);
          for (let j = 0; j < n; j++) grads(job, j).forEach((v, c) => (want[c] = want[c]! + v));
          got.forEach((v, c) => expect(Math.abs(v - want[c]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[c]!))));
        }
      }
    }
  });
});
