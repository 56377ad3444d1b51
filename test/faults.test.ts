import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.ts';
import { FaultSchedule } from '../src/sim/faults.ts';
import { Membership } from '../optimizers/common/rejoin.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { StragglerModel } from '../src/sim/stragglers.ts';
import { ringTopology } from '../topologies/ring.ts';
import { dtemuHere } from './helpers/cli-inprocess.ts';
import { tmp } from './helpers/cli.ts';
import type { TimelineEvent } from '../src/metrics/aggregator.ts';

type Ev = TimelineEvent;

const BASE = 'data: { dataset: blobs }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n';

describe('fault timeline', () => {
  it('parses steps and times, and rejects bad references with the key path', () => {
    const lc = loadConfigText('f.yaml', BASE + 'faults:\n  - { kind: stall, worker: 1, at: "1.5 s", duration: 2 s }\n  - { kind: slow, worker: 0, factor: 3, at: 10, for: 5 }\n');
    expect(lc.faults).toEqual([
      { kind: 'stall', worker: 1, at: { time: 1.5 }, duration: 2 },
      { kind: 'slow', worker: 0, factor: 3, at: { step: 10 }, for: { step: 5 } },
    ]);
    const bad: [string, RegExp][] = [
      ['  - { kind: stall, worker: 9, at: 3, duration: 1 s }\n', /f\.yaml:5:\d+: faults\.0\.worker: expected a worker rank below workers \(4\), found 9/],
      ['  - { kind: stall, worker: 1, at: 3 }\n', /faults\.0\.duration: expected a duration for a stall fault/],
      ['  - { kind: link, link: "0->2", at: 1 s, bandwidth: 1 Mb/s }\n', /faults\.0\.link: expected one of .*0->1.*, found "0->2"/],
      ['  - { kind: link, link: "0->1", at: 4, bandwidth: 1 Mb/s }\n', /faults\.0\.at: expected a virtual time for a link fault/],
      ['  - { kind: stall, worker: 1, at: "soon", duration: 1 s }\n', /faults\.0\.at: expected a time with units/],
      ['  - { kind: explode, worker: 1, at: 3 }\n', /faults\.0\.kind: expected one of slow, stall, link, crash, partition/],
      ['  - { kind: crash, worker: 1, at: "2 s" }\n', /faults\.0\.at: expected a step for a crash/],
      ['  - { kind: slow, worker: 1, factor: 2, at: 2, for: "1 ms" }\n', /faults\.0\.for: expected a number of steps like at, found "1 ms"/],
      ['  - { kind: slow, worker: 1, factor: 2, at: "1 s", for: 5 }\n', /faults\.0\.for: expected a duration with units like at, found 5/],
    ];
    for (const [line, re] of bad) expect(() => loadConfigText('f.yaml', BASE + 'faults:\n' + line)).toThrow(re);
  });

  it('a degraded link changes exactly the transfers that start inside its window', () => {
    const faults = new FaultSchedule([{ kind: 'link', link: '0->1', bandwidth: 1e6, latency: 0.01, at: 1, for: 2 }]);
    const net = new NetworkModel(ringTopology(3, { bandwidth: 1e9, latency: 1e-4 }), faults);
    expect(net.transmit(0, 1, 1000, 0.5)).toBeCloseTo(0.5 + 8e-6 + 1e-4, 12);
    expect(net.transmit(0, 1, 1000, 1.5)).toBeCloseTo(1.5 + 8e-3 + 0.01, 12);
    expect(net.transmit(0, 1, 1000, 3.5)).toBeCloseTo(3.5 + 8e-6 + 1e-4, 12);
    expect(net.transmit(1, 2, 1000, 1.5)).toBeCloseTo(1.5 + 8e-6 + 1e-4, 12); // other links untouched
  });

  it('a partition holds transfers between its sides until it heals, and only those', () => {
    const faults = new FaultSchedule([{ kind: 'partition', workers: [1], at: 1, for: 2 }]);
    const net = new NetworkModel(ringTopology(3, { bandwidth: 1e9, latency: 1e-4 }), faults);
    expect(net.transmit(0, 1, 1000, 1.5)).toBeCloseTo(3 + 8e-6 + 1e-4, 12); // waits for the heal at 3 s
    expect(net.transmit(1, 2, 1000, 2.5)).toBeCloseTo(3 + 8e-6 + 1e-4, 12);
    expect(net.transmit(2, 0, 1000, 1.5)).toBeCloseTo(1.5 + 8e-6 + 1e-4, 12); // same side: unaffected
    expect(net.transmit(0, 1, 1000, 3.5)).toBeCloseTo(3.5 + 8e-6 + 1e-4, 12); // healed
    expect(() => loadConfigText('f.yaml', BASE + 'faults:\n  - { kind: partition, workers: [0, 1], at: 1 s }\n')).toThrow(/faults\.0\.for: expected a duration with units for a partition \(it must heal\)/);
  });

  it('the Gantt data shows an injected stall and a slow window exactly where the timeline put them', async () => {
    const dir = join(tmp(), 'run');
    const r = await dtemuHere([
      'run',
      'test/fixtures/tiny-blobs.yaml',
      '--out',
      dir,
      '--quiet',
      '--set',
      'transport.kind=inproc',
      '--set',
      'faults=[{kind: stall, worker: 1, at: 10, duration: 0.5 s}, {kind: stall, worker: 3, at: "0.2 s", duration: 0.25 s}, {kind: slow, worker: 0, factor: 4, at: 20, for: 5}]',
    ]);
    expect(r.stderr).toBe('');
    const events = readFileSync(join(dir, 'timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Ev);
    const ev = (w: number, s: number) => events.find((e) => e.worker === w && e.step === s)!;
    const delays = new StragglerModel({ slow: [], delay: { kind: 'shifted-exponential', shift: 0.001, mean: 0.005 } }, 5);
    const injected = (w: number, s: number) => ev(w, s).delayEnd - ev(w, s).computeEnd - delays.delay(w, s);
    // Step-based stall: exactly at worker 1's step 10.
    expect(injected(1, 10)).toBeCloseTo(0.5, 9);
    for (let s = 1; s <= 40; s++) if (s !== 10) expect(injected(1, s)).toBeCloseTo(0, 9);
    // Time-based stall: the first step of worker 3 that starts at or after 0.2 s.
    const first = events.filter((e) => e.worker === 3 && e.start >= 0.2).sort((a, b) => a.step - b.step)[0]!;
    expect(injected(3, first.step)).toBeCloseTo(0.25, 9);
    expect(injected(3, first.step - 1)).toBeCloseTo(0, 9);
    // Slow window: steps 20..24 of worker 0 compute 4x longer than step 19.
    const c = (s: number) => ev(0, s).computeEnd - ev(0, s).start;
    for (let s = 20; s < 25; s++) expect(c(s)).toBeCloseTo(4 * c(19), 12);
    expect(c(25)).toBeCloseTo(c(19), 12);
  });
});

describe('crash and rejoin schedule', () => {
  type Rejoin = { steps: number } | { time: number } | null;
  const crash = (at: number, rejoin: Rejoin, steps = 100) => new Membership(4, steps, [{ worker: 2, at, rejoin }]);
  /** Feed rounds (step, end time) to the master's membership; the round after which worker 2 joined. */
  const joinedAfter = (m: Membership, rounds: [number, number][]) => {
    for (const [s, t] of rounds) if (m.endRound(s, t).includes(2)) return s;
    return null;
  };
  const everyStep = (n: number): [number, number][] => Array.from({ length: n }, (_, i) => [i + 1, 0.1 * (i + 1)]);

  it('after N steps: at the first round ending at or after step at + N - 1; never at the last step', () => {
    expect(joinedAfter(crash(10, { steps: 5 }), everyStep(100))).toBe(14); // gradient coding: back at 15
    expect(joinedAfter(crash(10, { steps: 5 }), [10, 20, 30].map((s) => [s, s / 10]))).toBe(20); // DiLoCo H = 10: back at 21
    expect(joinedAfter(crash(10, { steps: 1 }), everyStep(100))).toBe(10); // down for step 10 only
    expect(joinedAfter(crash(10, { steps: 5 }, 14), everyStep(14))).toBeNull(); // the run ends first
    expect(joinedAfter(crash(10, null), everyStep(100))).toBeNull();
    const m = crash(10, { steps: 5 });
    const alive: number[][] = [];
    for (const [s, t] of everyStep(20)) {
      alive.push(m.alive(s));
      m.endRound(s, t);
    }
    expect([alive[8], alive[9], alive[13], alive[14]]).toEqual([[0, 1, 2, 3], [0, 1, 3], [0, 1, 3], [0, 1, 2, 3]]);
    expect(m.backAfter(2)).toBe(14);
    expect(m.waiting()).toEqual([]);
  });

  it('after a virtual time: at the first round ending that long after the first round it missed', () => {
    // Rounds every 0.1 s; it misses round 10 (ends at 1.0 s); back 0.35 s later: the round ending at 1.4 s.
    expect(joinedAfter(crash(10, { time: 0.35 }), everyStep(100))).toBe(14);
    // DiLoCo: it crashes at step 12 and misses the sync at 20 (2.0 s); the one at 30 ends 1 s later.
    expect(joinedAfter(crash(12, { time: 0.5 }), [10, 20, 30, 40].map((s) => [s, s / 10]))).toBe(30);
    const never = crash(10, { time: 100 });
    expect(joinedAfter(never, everyStep(100))).toBeNull();
    expect(never.waiting()).toEqual([2]); // told at the end of the run that it will not rejoin
  });

  it('a replacement drops stalls timed while it was down', () => {
    const f = new FaultSchedule([
      { kind: 'stall', worker: 1, at: { time: 5 }, duration: 1 },
      { kind: 'stall', worker: 1, at: { time: 7 }, duration: 3 },
      { kind: 'stall', worker: 1, at: { time: 8 }, duration: 2 },
    ]);
    expect(f.stall(1, 1, 4)).toBe(0);
    f.restart(1, 7); // crashed after the step at t = 4, back at t = 7
    expect(f.stall(1, 20, 7)).toBe(3); // timed at its first step's start: not while down
    expect(f.stall(1, 21, 8.5)).toBe(2);
  });
});

describe('programmable faults (faultsModule)', () => {
  it('apply where the function says, identically in every transport; a broken module is an input error', async () => {
    const base = tmp();
    const sets = ['train.steps=60', 'faultsModule=programmable-faults.ts'];
    const run = async (name: string, extra: string[]) => {
      const dir = join(base, name);
      const r = await dtemuHere(['run', 'experiments/faults/programmable.yaml', '--out', dir, '--quiet', ...[...sets, ...extra].flatMap((s) => ['--set', s])]);
      expect(r.stderr).toBe('');
      return readFileSync(join(dir, 'timeline.jsonl'), 'utf8');
    };
    const ws = await run('ws', ['transport.processes=2']);
    const inproc = await run('inproc', ['transport.kind=inproc']);
    expect(ws).toBe(inproc);
    const stalls = inproc
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Ev)
      .filter((e) => e.delayEnd - e.computeEnd > 0);
    expect(stalls.map((e) => [e.step, e.worker])).toEqual([[50, 1]]);
    expect(stalls[0]!.delayEnd - stalls[0]!.computeEnd).toBeCloseTo(0.2, 12);

    const bad = await dtemuHere(['run', 'experiments/faults/programmable.yaml', '--out', join(base, 'bad'), '--set', 'faultsModule=programmable.yaml'], true);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/faultsModule: cannot load .*programmable\.yaml|faultsModule: expected .* to export a default function/);
  });
});

describe('generated fault timelines (a fault module\'s `timeline` export)', () => {
  it('are validated, applied (crashes that rejoin, a link) and listed in the manifest; config.yaml keeps only the module', async () => {
    const dir = join(tmp(), 'run');
    const r = await dtemuHere(['run', 'experiments/faults/generated.yaml', '--out', dir, '--quiet', '--set', 'transport.kind=inproc']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { generatedFaults: { kind: string; worker?: number; at: number | string; rejoin?: number }[] };
    const crashes = m.generatedFaults.filter((f) => f.kind === 'crash');
    expect(crashes).toHaveLength(2);
    expect(m.generatedFaults.filter((f) => f.kind === 'link')).toHaveLength(1);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number; lossByWorker?: number[] });
    // Each crashed worker is missing for exactly its 30 rejoin steps (gradient coding: one round per step).
    const down = (s: number) => crashes.filter((c) => s >= (c.at as number) && s < (c.at as number) + 30).length;
    const train = lines.filter((l) => l.kind === 'train');
    expect(train).toHaveLength(200);
    for (const l of train) expect(l.lossByWorker!.length).toBe(6 - down(l.step));
    expect(train.some((l) => down(l.step) > 0)).toBe(true);
    // Rerunnable: the resolved config names the module, not the generated entries.
    const config = readFileSync(join(dir, 'config.yaml'), 'utf8');
    expect(config).toContain('faultsModule: generated-faults.ts');
    expect(config).toMatch(/^faults: \[\]$/m);
  });

  it('a bad generated entry is an input error naming the module and the entry; nothing is created', async () => {
    const base = tmp();
    writeFileSync(join(base, 'gen.ts'), "export const timeline = ({ workers }: { workers: number }) => [{ kind: 'stall', worker: 1, at: 3, duration: '1 s' }, { kind: 'crash', worker: workers + 3, at: 5 }];\n");
    writeFileSync(join(base, 'exp.yaml'), readFileSync('experiments/faults/generated.yaml', 'utf8').replace('faultsModule: generated-faults.ts', 'faultsModule: gen.ts'));
    const out = join(base, 'run');
    for (const cmd of [['validate', join(base, 'exp.yaml')], ['run', join(base, 'exp.yaml'), '--out', out]]) {
      const r = await dtemuHere(cmd, true);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/gen\.ts: timeline\(\)\[1\]: faults\.1\.worker: expected a worker rank below workers \(6\), found 9/);
    }
    expect(existsSync(out)).toBe(false);
  });
});
