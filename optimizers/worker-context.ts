import type { Endpoint } from '../comm/endpoint.ts';

/** What a worker reports to the coordinator after each step and each evaluation. */
export interface StepReport {
  type: 'step';
  rank: number;
  step: number;
  loss: number;
  /** Virtual time at the end of the step (s). */
  simTime: number;
  /** Virtual seconds this step spent computing (incl. injected delay), communicating, waiting. */
  compute: number;
  delay: number;
  comm: number;
  /** Cumulative payload bytes this worker has sent. */
  bytesSent: number;
  /** Cumulative payload bytes this worker has received from the parameter server (downlink). */
  bytesFromServer?: number;
  wallTime: number;
  /** Wall-clock seconds of the tfjs gradient computation (benchmarks; never in metrics). */
  gradWallSec: number;
  /** CPU seconds of the same computation (not inflated when processes share cores). */
  gradCpuSec: number;
  /** On the last step only: cumulative payload bytes per destination rank (per link). */
  bytesTo?: [number, number][];
  /** Communication started this step that runs on while the worker computes: [start, end] (s). */
  background?: [number, number][];
  /** Collective phases of the step's communication: [name, start, end] (s). */
  phases?: [string, number, number][];
  /** topology.collective auto (rank 0): the all-reduces it ran in the step, [entry time, bytes, collective]. */
  collectives?: [number, number, string][];
  /**
   * Payload messages this worker sent since its previous report (runs of at most 64 workers):
   * [to rank, bytes, virtual send, virtual arrival (null when the receiver timed it)].
   */
  transfers?: [number, number, number, number | null][];
  /** async-sgd: the staleness of this step's gradient when the server applied it. */
  staleness?: number;
  /** The Byzantine attack this worker carried out in this step (fault kind byzantine). */
  byzantine?: string;
}

export interface EvalReport {
  type: 'eval';
  rank: number;
  step: number;
  simTime: number;
  evalLoss: number;
  evalAccuracy: number;
  /**
   * Extra fields of the eval line, named by the algorithm (gossip: `consensusDistance`,
   * `evalAccuracyByWorker`, the privacy budget spent): finite numbers or lists of them.
   */
  extra?: Record<string, number | number[]>;
}

export type WorkerReport = StepReport | EvalReport;

/** Gradient and evaluation access, on flat parameter vectors (implemented by train/Trainer). */
export interface GradientOracle {
  readonly paramCount: number;
  lossAndGrad(params: Float32Array, batch: Int32Array, grad: Float32Array): number;
  evaluate(params: Float32Array): Promise<{ loss: number; accuracy: number }>;
  /** Wall and CPU seconds of the last lossAndGrad (used by compute.mode=measured and benches). */
  lastTiming(): { wallSec: number; cpuSec: number };
}

/** The training rows as the data set holds them (inputs row-major, scaled by inputScale). */
export interface TrainingRows {
  n: number;
  inputSize: number;
  inputScale: number;
  /** 0 for regression (y holds real targets). */
  classes: number;
  x: Float32Array | Uint8Array;
  y: Int32Array | Float32Array;
  /** data.batchSize: the samples one `computeTime` covers (an algorithm computing on R rows scales it by R / batchSize). */
  batchSize: number;
}

export interface ModelParamShape {
  name: string;
  offset: number;
  size: number;
  shape: number[];
}

/** Give Node's event loop a turn (timers, sockets, signals) between synchronous tfjs work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Everything one logical worker needs to run an algorithm. */
export interface WorkerContext {
  rank: number;
  workers: number;
  ep: Endpoint;
  oracle: GradientOracle;
  initialParams: Float32Array;
  nextBatch(): Int32Array;
  /** Virtual compute time of `step` (modelled or measured wall time of the last gradient). */
  computeTime(step: number, measuredSec: number): { compute: number; delay: number };
  report(r: WorkerReport): void;
  steps: number;
  evalEvery: number;
  /** All-reduce (sum) of `data` in place over the configured topology. */
  allReduce(data: Float32Array): Promise<void>;
  /**
   * The next batch of data partition j (partition = the j-th worker's shard). Every worker that
   * computes partition j draws the same batches, which gradient coding needs to decode exactly.
   */
  partitionBatch(j: number): Int32Array;
  /**
   * The whole training split (every row, not only this worker's shard), for algorithms that
   * place the data themselves (encoded optimization encodes all rows, then keeps its block).
   */
  trainingData?(): TrainingRows;
  /** This worker's seeded uniform [0,1) stream for stochastic compressors. */
  uniform: () => number;
  /** The model's tensors with their shapes (PowerSGD views them as matrices). */
  params: ModelParamShape[];
  /** The run's root seed (shared random streams such as PowerSGD's initial Q). */
  seed: number;
  topology: string;
  /** The topology's neighbour graph for gossip (as RuleContext.neighbours), built on first call. */
  neighbours?(): number[][] | null;
  /**
   * True if the fault timeline crashes this worker at the start of `step`. The algorithm then
   * returns `crash(step)`, which kills the worker's process over ws (a real SIGKILL); in process,
   * it stops this worker (algorithms whose master carries on, Algorithm.toleratesCrash) or fails
   * the run.
   */
  crashesAt(step: number): boolean;
  /**
   * This worker replaces a crashed one (fault timeline `rejoin`; gradient coding and DiLoCo on a
   * star): it waits for the model its master sends it (optimizers/rejoin.ts) and runs from the
   * step after that round, or not at all if the run ends first.
   */
  replacement: boolean;
  crash(step: number): Promise<void>;
  /** Set for a worker the fault timeline makes Byzantine (optimizers/common/byzantine.ts). */
  byzantine?: ByzantineRole;
  /** Report a finished step (adds traffic counters; per-link bytes on the last step). */
  reportStep(step: number, loss: number, compute: number, delay: number, comm: number, gradWallSec: number, gradCpuSec: number, background?: [number, number][], extra?: StepExtra): void;
}

/**
 * What a Byzantine worker (fault kind `byzantine`) does instead of the honest thing, built by the
 * worker host from the fault timeline (src/runtime/byzantine-role.ts).
 */
export interface ByzantineRole {
  /** The attack in force at `step` (its name), or null before its first step. */
  attackAt(step: number): string | null;
  /** The oracle the worker computes its gradients with at `step` (label-flip: flipped labels). */
  oracleAt(step: number): GradientOracle;
  /**
   * Call once per step, from step 1, with the worker's honest gradient `grad` at `params`: from
   * the attack's first step on, `grad` becomes what the attacker sends instead.
   */
  corrupt(step: number, params: Float32Array, grad: Float32Array): void;
}

/** The model's tensors as ranges of the flat vector (per-tensor compression). */
export function segmentsOf(params: readonly ModelParamShape[]): { offset: number; size: number }[] {
  return params.map((p) => ({ offset: p.offset, size: p.size }));
}

/** Rank 0 evaluates `params` every evalEvery steps and at the last step (no virtual time). */
export async function evaluateIfDue(ctx: WorkerContext, step: number, params: Float32Array): Promise<void> {
  if (ctx.rank !== 0 || (step % ctx.evalEvery !== 0 && step !== ctx.steps)) return;
  const ev = await ctx.oracle.evaluate(params);
  ctx.report({ type: 'eval', rank: 0, step, simTime: ctx.ep.now, evalLoss: ev.loss, evalAccuracy: ev.accuracy });
}

/** One step's local gradient and its virtual cost (computeGradient). */
/** Optional per-step fields some algorithms report (they go into the metrics train line). */
export interface StepExtra {
  staleness?: number;
}

export interface ComputedStep {
  loss: number;
  compute: number;
  delay: number;
  wallSec: number;
  cpuSec: number;
}

/**
 * The local part of a step: the gradient of the next batch at `params` into `grad`, and the
 * worker's clock advanced by the step's modelled (or measured) compute time and injected delay.
 */
export function computeGradient(ctx: WorkerContext, step: number, params: Float32Array, grad: Float32Array): ComputedStep {
  // A label-flipping Byzantine worker trains on its flipped labels from its attack's first step.
  const oracle = ctx.byzantine?.oracleAt(step) ?? ctx.oracle;
  const loss = oracle.lossAndGrad(params, ctx.nextBatch(), grad);
  const { wallSec, cpuSec } = oracle.lastTiming();
  // computeTime reads the clock as the step's start: call it before advancing.
  const { compute, delay } = ctx.computeTime(step, wallSec);
  ctx.ep.now += compute + delay;
  return { loss, compute, delay, wallSec, cpuSec };
}

/**
 * The end of every step: let the event loop run (signals, heartbeats, progress) even when all
 * of the step's messages were delivered in process — virtual time is unaffected — then report
 * the step and evaluate `params` if due. `comm` is the time the step was blocked communicating;
 * `background` lists transfers it started that overlap later computation (Streaming DiLoCo).
 */
export async function finishStep(ctx: WorkerContext, step: number, c: ComputedStep, comm: number, params: Float32Array, background?: [number, number][], extra?: StepExtra): Promise<void> {
  await yieldToEventLoop();
  ctx.reportStep(step, c.loss, c.compute, c.delay, comm, c.wallSec, c.cpuSec, background, extra);
  await evaluateIfDue(ctx, step, params);
}
