import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import { pushAbandoning } from '../common/push-abandoning.ts';
import { createGradientCode, encode, type GradientCode } from '../../src/coding/index.ts';
import { srSgcStragglers } from '../../src/coding/sequential/selective-reattempt.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';

export interface SequentialCodingConfig extends SgdHyperparameters {
  /** B: a job may finish up to B rounds after it started (bursts of at most B rounds). */
  B: number;
  /** W: the window of the straggler model (B divides W - 1). */
  W: number;
  /** lambda: distinct stragglers tolerated in any W consecutive rounds. */
  lambda: number;
  /** A worker is a straggler in a round if it finishes later than (1 + mu) times the fastest. */
  mu: number;
}

export const SEQUENTIAL_NAMESPACE = 'sequential-gradient-coding';

/** The run's cyclic-repetition code (built from the seed, the same in every process). */
export function sequentialCodeFor(cfg: SequentialCodingConfig, workers: number, seed: number): GradientCode {
  return createGradientCode('cyclic', workers, srSgcStragglers(cfg), seed);
}

/**
 * The worker of selective-reattempt sequential gradient coding: each round r it receives the
 * model w_r and, from the master's reply, whether it reattempts job r - B. It always draws job
 * r's batches (so every worker's partition streams stay aligned) and keeps the last B + 1
 * models and batches, then
 *
 *   job = r - B if told to reattempt, else r
 *   c = sum_j B[i][j] grad f(w_job; batch_job of partition j)   over its s + 1 partitions
 *   push c; receive w_{r+1} and the next round's reattempt flags
 *
 * A straggler abandons its task when the new model reaches it (as in gradient coding).
 */
export async function runSequentialCodingWorker(ctx: WorkerContext, cfg: SequentialCodingConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const n = ctx.workers;
  const code = sequentialCodeFor(cfg, n, ctx.seed);
  const parts = code.partitionsOf(ctx.rank);
  // Models and batches of the last B + 1 rounds (a reattempt is B rounds old); never more than
  // the run has rounds, whatever B says (the config rules refuse B >= steps).
  const keep = Math.min(cfg.B, ctx.steps) + 1;
  const models = Array.from({ length: keep }, () => new Float32Array(d));
  const batches = parts.map(() => new Array<Int32Array>(keep));
  const grads = new Map(parts.map((j) => [j, new Float32Array(d)]));
  const out = new Float32Array(d);
  const params = Float32Array.from(ctx.initialParams);
  let reattempt = false;
  for (let step = 1; step <= ctx.steps; step++) {
    // The scheme decodes every job only with every worker's help over B rounds: no crash tolerance.
    if (ctx.crashesAt(step)) return ctx.crash(step);
    models[step % keep]!.set(params);
    parts.forEach((j, k) => (batches[k]![step % keep] = ctx.partitionBatch(j)));
    const job = reattempt ? step - cfg.B : step;
    let lossSum = 0;
    parts.forEach((j, k) => (lossSum += oracle.lossAndGrad(models[job % keep]!, batches[k]![job % keep]!, grads.get(j)!)));
    encode(code, ctx.rank, grads, out);
    const { wallSec, cpuSec } = oracle.lastTiming();
    const t = ctx.computeTime(step, wallSec);
    const compute = t.compute * parts.length;
    const round = await pushAbandoning(ep, SEQUENTIAL_NAMESPACE, out, compute, t.delay);
    const v = bytesToF32(round.payload);
    params.set(v.subarray(0, d));
    reattempt = v[d + ctx.rank] === 1;
    await finishStep(ctx, step, { loss: lossSum / parts.length, compute: round.compute, delay: round.delay, wallSec, cpuSec }, round.comm, params);
  }
}
