/**
 * Fault timeline (experiment key `faults:`), all in virtual time or steps, pure and
 * deterministic: every process evaluates the same schedule and gets the same answers.
 *
 * - slow:  compute of `worker` multiplied by `factor` for steps / times in [at, at + for)
 * - stall: `worker` is stalled for `duration` seconds at the first step boundary at or after
 *          `at` (a step number, or a virtual time)
 * - crash: `worker` dies at the start of step `at` (a real SIGKILL of its process over ws);
 *          gradient coding and DiLoCo through a master carry on without it, synchronous
 *          algorithms stop with an error. With `rejoin` (N steps, or a virtual time) a fresh
 *          worker (a new process over ws) takes its place at a round of the master, which
 *          decides when (optimizers/rejoin.ts, Membership)
 * - partition: for virtual times in [at, at + for) the listed workers are cut off from the
 *          others (and from the parameter server): a transfer between the two sides waits until
 *          the partition heals
 * - link:  the link `link` ("0->1" on a ring, "server-in"/"server-out" on a star) has another
 *          bandwidth and/or latency for virtual times in [at, at + for)
 * - byzantine: from step `from` on, `workers` send what `attack` makes of their gradient
 *          (comm/byzantine), or train on flipped labels (label-flip); src/runtime/byzantine-role.ts
 */
import type { AttackSpec } from '../../comm/byzantine/apply.ts';

export type When = { step: number } | { time: number };

export type Fault =
  | { kind: 'slow'; worker: number; factor: number; at: When; for: When | null }
  | { kind: 'stall'; worker: number; at: When; duration: number }
  | { kind: 'link'; link: string; bandwidth: number | null; latency: number | null; at: number; for: number | null }
  | { kind: 'crash'; worker: number; at: { step: number }; rejoin: { steps: number } | { time: number } | null }
  | { kind: 'partition'; workers: number[]; at: number; for: number }
  | { kind: 'byzantine'; workers: number[]; attack: AttackSpec; from: number };

function within(at: When, span: When | null, step: number, time: number): boolean {
  if ('step' in at) {
    const end = span === null ? Infinity : 'step' in span ? at.step + span.step : Infinity;
    return step >= at.step && step < end;
  }
  const end = span === null ? Infinity : 'time' in span ? at.time + span.time : Infinity;
  return time >= at.time && time < end;
}

export class FaultSchedule {
  private readonly lastStart = new Map<number, number>();

  constructor(readonly faults: readonly Fault[]) {}

  /** The step at whose start `worker` crashes, or null. */
  crashStep(worker: number): number | null {
    let at: number | null = null;
    for (const x of this.faults) if (x.kind === 'crash' && x.worker === worker && (at === null || x.at.step < at)) at = x.at.step;
    return at;
  }

  /** The crashes, for the masters' membership (optimizers/rejoin.ts). */
  crashes(): { worker: number; at: number; rejoin: { steps: number } | { time: number } | null }[] {
    return this.faults.flatMap((x) => (x.kind === 'crash' ? [{ worker: x.worker, at: x.at.step, rejoin: x.rejoin }] : []));
  }

  /** True if `worker` crashes and a replacement may take its place. */
  rejoins(worker: number): boolean {
    return this.faults.some((x) => x.kind === 'crash' && x.worker === worker && x.rejoin !== null);
  }

  /** The Byzantine attack of `worker` and the step it starts at, or null (an honest worker). */
  byzantine(worker: number): { attack: AttackSpec; from: number } | null {
    for (const x of this.faults) if (x.kind === 'byzantine' && x.workers.includes(worker)) return { attack: x.attack, from: x.from };
    return null;
  }

  /** Every worker some byzantine fault names, ascending. */
  byzantineWorkers(): number[] {
    const s = new Set(this.faults.flatMap((x) => (x.kind === 'byzantine' ? x.workers : [])));
    return [...s].sort((a, b) => a - b);
  }

  get empty(): boolean {
    return this.faults.length === 0;
  }

  /** Compute-time factor of `worker` for the step starting at virtual time `start`. */
  slowdown(worker: number, step: number, start: number): number {
    let f = 1;
    for (const x of this.faults) if (x.kind === 'slow' && x.worker === worker && within(x.at, x.for, step, start)) f *= x.factor;
    return f;
  }

  /**
   * A replacement for crashed `worker` starts its first step at `time`: stalls timed while it
   * was down are dropped (the same whether its predecessor lived in this process or not).
   */
  restart(worker: number, time: number): void {
    // Just below `time`: a stall timed exactly at the first step's start still fires.
    this.lastStart.set(worker, time > 0 ? time * (1 - Number.EPSILON) : -Number.MIN_VALUE);
  }

  /**
   * Stall seconds injected into `worker`'s step `step` starting at `start`. Call once per step in
   * order (it remembers the previous step's start to find the first boundary after a time).
   */
  stall(worker: number, step: number, start: number): number {
    const prev = this.lastStart.get(worker) ?? -Infinity;
    this.lastStart.set(worker, start);
    let d = 0;
    for (const x of this.faults) {
      if (x.kind !== 'stall' || x.worker !== worker) continue;
      if ('step' in x.at ? step === x.at.step : prev < x.at.time && x.at.time <= start) d += x.duration;
    }
    return d;
  }

  /** Earliest time >= `time` at which `a` and `b` are on the same side of every partition. */
  partitionHeal(a: number, b: number, time: number): number {
    let t = time;
    for (let changed = true; changed; ) {
      changed = false;
      for (const x of this.faults) {
        if (x.kind !== 'partition') continue;
        if (x.workers.includes(a) === x.workers.includes(b)) continue;
        if (t >= x.at && t < x.at + x.for) {
          t = x.at + x.for;
          changed = true;
        }
      }
    }
    return t;
  }

  /** Bandwidth / latency of link `id` for a transfer starting at virtual `time` (or null: unchanged). */
  link(id: string, time: number): { bandwidth: number | null; latency: number | null } | null {
    let bandwidth: number | null = null;
    let latency: number | null = null;
    let hit = false;
    for (const x of this.faults) {
      if (x.kind !== 'link' || x.link !== id) continue;
      if (time >= x.at && (x.for === null || time < x.at + x.for)) {
        // Later entries of the timeline win for the values they set.
        hit = true;
        if (x.bandwidth !== null) bandwidth = x.bandwidth;
        if (x.latency !== null) latency = x.latency;
      }
    }
    return hit ? { bandwidth, latency } : null;
  }
}
