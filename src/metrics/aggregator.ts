import type { EvalReport, StepReport, WorkerReport } from '../../optimizers/worker-context.ts';
import { AutoRanLog } from './auto-ran.ts';

/**
 * Bits are cumulative payload bits from the start of the run. uplinkBits: everything workers
 * sent (to the server, or to other workers on a ring); downlinkBits: what the parameter server
 * sent to workers, counted as the workers received it by the end of the step (0 without a
 * server); bits = uplinkBits + downlinkBits.
 */
export interface TrainLine {
  kind: 'train';
  step: number;
  simTimeSec: number;
  wallTimeSec: number;
  loss: number;
  bits: number;
  uplinkBits: number;
  downlinkBits: number;
  lossByWorker: number[];
  /** async-sgd: the staleness of each worker's gradient of this step, in rank order. */
  stalenessByWorker?: number[];
}

export interface EvalLine {
  kind: 'eval';
  step: number;
  simTimeSec: number;
  wallTimeSec: number;
  bits: number;
  uplinkBits: number;
  downlinkBits: number;
  evalLoss: number;
  evalAccuracy: number | null;
  /** Gossip algorithms: (1/n) sum_i ||x_i - x_bar||^2 of the workers' models at this step. */
  consensusDistance?: number;
  /** Other fields an algorithm adds to its evaluations (EvalReport.extra). */
  [extra: string]: unknown;
}

export type MetricsLine = TrainLine | EvalLine;

interface StepBits {
  bits: number;
  uplinkBits: number;
  downlinkBits: number;
}

/**
 * One worker's step on the virtual timeline (timeline.jsonl, the data behind the Gantt chart):
 * computing in [start, computeEnd), injected delay in [computeEnd, delayEnd), communicating
 * (including waiting inside collectives) in [delayEnd, end).
 */
export interface TimelineEvent {
  step: number;
  worker: number;
  start: number;
  computeEnd: number;
  delayEnd: number;
  end: number;
  /** Transfers started in this step that overlap later steps' computation: [start, end] (s). */
  background?: [number, number][];
  /** Collective phases inside the communication: [name, start, end] (s). */
  phases?: [string, number, number][];
  /** Messages the worker sent in this step: [to, bytes, send, arrival (null: timed by receiver)]. */
  transfers?: [number, number, number, number | null][];
  /** The Byzantine attack the worker carried out in this step (fault kind byzantine). */
  byzantine?: string;
}

/** Per-worker virtual-time breakdown accumulated over the run. */
export interface WorkerBreakdown {
  worker: number;
  computeSec: number;
  delaySec: number;
  commSec: number;
  /** Time the worker was idle waiting for others (simTime - own busy time). */
  waitSec: number;
  bytesSent: number;
  /** Wall-clock seconds spent in tfjs gradient computation (for benchmarks, not deterministic). */
  gradWallSec: number;
  gradCpuSec: number;
  /** Payload bytes this worker sent to each destination ("to" rank -> bytes; the server is rank n). */
  bytesTo: Record<string, number>;
}

/**
 * Turns per-worker reports (arriving in any order, from any process) into one train line per
 * step, in step order, once every worker has reported that step; eval lines follow their step.
 * Every field but wallTimeSec is a function of the reports' contents only, hence deterministic.
 */
export class MetricsAggregator {
  private readonly pending = new Map<number, StepReport[]>();
  private readonly pendingEval = new Map<number, EvalReport>();
  private nextStep = 1;
  private readonly lastBytes: number[];
  private readonly lastDownBytes: number[];
  readonly breakdown: WorkerBreakdown[];
  lastSimTime = 0;
  /** topology.collective auto: what it ran, from rank 0's reports in step order (summary.json's collective.ran). */
  readonly autoRan = new AutoRanLog();
  private readonly workerEnd: number[] = [];
  lastBits: StepBits = { bits: 0, uplinkBits: 0, downlinkBits: 0 };
  stepsDone = 0;

  constructor(
    private readonly workers: number,
    private readonly emit: (line: MetricsLine) => void,
    private readonly wallTime: () => number,
    private readonly timeline: (e: TimelineEvent) => void = () => {},
    /** Workers expected to report `step` (fewer once the fault timeline has crashed some). */
    private readonly expected: (step: number) => number = () => workers,
    /** True for a worker the fault timeline crashed. */
    private readonly crashed: (worker: number) => boolean = () => false,
  ) {
    this.lastBytes = new Array<number>(workers).fill(0);
    this.lastDownBytes = new Array<number>(workers).fill(0);
    this.breakdown = Array.from({ length: workers }, (_, w) => ({ worker: w, computeSec: 0, delaySec: 0, commSec: 0, waitSec: 0, bytesSent: 0, gradWallSec: 0, gradCpuSec: 0, bytesTo: {} }));
  }

  add(r: WorkerReport): void {
    if (r.type === 'eval') this.pendingEval.set(r.step, r);
    else {
      let list = this.pending.get(r.step);
      if (!list) this.pending.set(r.step, (list = []));
      list.push(r);
    }
    this.flush();
  }

  private flush(): void {
    for (;;) {
      const list = this.pending.get(this.nextStep);
      if (!list || list.length < this.expected(this.nextStep)) break;
      this.pending.delete(this.nextStep);
      list.sort((a, b) => a.rank - b.rank);
      let simTime = 0;
      let bytes = 0;
      let lossSum = 0;
      for (const r of list) {
        simTime = Math.max(simTime, r.simTime);
        lossSum += r.loss;
        const b = this.breakdown[r.rank]!;
        b.computeSec += r.compute;
        b.delaySec += r.delay;
        b.commSec += r.comm;
        b.bytesSent = r.bytesSent;
        b.gradWallSec += r.gradWallSec;
        b.gradCpuSec += r.gradCpuSec;
        this.workerEnd[r.rank] = r.simTime;
        const start = r.simTime - r.comm - r.delay - r.compute;
        this.timeline({ step: r.step, worker: r.rank, start, computeEnd: start + r.compute, delayEnd: start + r.compute + r.delay, end: r.simTime, ...(r.background ? { background: r.background } : {}), ...(r.phases ? { phases: r.phases } : {}), ...(r.transfers ? { transfers: r.transfers } : {}), ...(r.byzantine ? { byzantine: r.byzantine } : {}) });
        if (r.collectives) for (const [t, b, a] of r.collectives) this.autoRan.add(t, b, a);
        if (r.bytesTo) b.bytesTo = Object.fromEntries(r.bytesTo.map(([to, n]) => [String(to), n]));
        this.lastBytes[r.rank] = r.bytesSent;
        this.lastDownBytes[r.rank] = r.bytesFromServer ?? 0;
      }
      // Cumulative over every worker, including what crashed (or not yet rejoined) ones sent.
      for (const b of this.lastBytes) bytes += b;
      let down = 0;
      for (const b of this.lastDownBytes) down += b;
      const stepBits: StepBits = { bits: (bytes + down) * 8, uplinkBits: bytes * 8, downlinkBits: down * 8 };
      this.lastSimTime = simTime;
      this.lastBits = stepBits;
      this.bitsByStep.set(this.nextStep, stepBits);
      this.simTimeByStep.set(this.nextStep, simTime);
      this.stepsDone = this.nextStep;
      this.emit({
        kind: 'train',
        step: this.nextStep,
        simTimeSec: simTime,
        wallTimeSec: this.wallTime(),
        loss: lossSum / list.length,
        ...stepBits,
        lossByWorker: list.map((r) => r.loss),
        ...(list.every((r) => r.staleness !== undefined) ? { stalenessByWorker: list.map((r) => r.staleness!) } : {}),
      });
      this.nextStep++;
    }
    // Only steps whose evaluation may still arrive need their bits/time remembered.
    if (this.bitsByStep.size > 64) {
      const evalSteps = new Set(this.pendingEval.keys());
      for (const s of [...this.bitsByStep.keys()]) {
        if (s < this.nextStep - 64 && !evalSteps.has(s)) {
          this.bitsByStep.delete(s);
          this.simTimeByStep.delete(s);
        }
      }
    }
    for (const [step, ev] of [...this.pendingEval.entries()].sort((a, b) => a[0] - b[0])) {
      if (step >= this.nextStep) break;
      this.pendingEval.delete(step);
      const stepBits = this.lastBitsAt(step);
      // The evaluation belongs to the end of its step: the slowest worker's clock, not rank 0's.
      const simTimeSec = this.simTimeByStep.get(step) ?? ev.simTime;
      this.bitsByStep.delete(step);
      this.simTimeByStep.delete(step);
      this.emit({
        kind: 'eval',
        step,
        simTimeSec,
        wallTimeSec: this.wallTime(),
        ...stepBits,
        evalLoss: ev.evalLoss,
        evalAccuracy: Number.isNaN(ev.evalAccuracy) ? null : ev.evalAccuracy,
        ...(ev.extra ?? {}),
      });
    }
  }

  private readonly bitsByStep = new Map<number, StepBits>();
  private readonly simTimeByStep = new Map<number, number>();
  private lastBitsAt(step: number): StepBits {
    return this.bitsByStep.get(step) ?? this.lastBits;
  }

  /**
   * Finalise the breakdown: waiting = the run's simulated time minus the worker's busy time (for
   * a worker that crashed, up to its last step only).
   */
  finish(): WorkerBreakdown[] {
    for (const b of this.breakdown) {
      const end = this.crashed(b.worker) ? this.workerEnd[b.worker]! : this.lastSimTime;
      b.waitSec = Math.max(0, end - b.computeSec - b.delaySec - b.commSec);
    }
    return this.breakdown;
  }
}
