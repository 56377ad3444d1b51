import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import { pushAbandoning } from '../common/push-abandoning.ts';
import { createGradientCode, encode, type GradientCode } from '../../src/coding/index.ts';
import { receiveRejoinModel } from '../common/rejoin.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';

/**
 * Strategies against stragglers, all with a master (the parameter server, rank n) that owns the
 * model, applies the update and sends the new model to every worker each step:
 * - coded: gradient coding (Tandon et al. 2017); worker i computes the gradients of its s+1
 *   data partitions and sends one coded combination; the master decodes the exact full gradient
 *   from the first n-s arrivals in virtual time.
 * - wait-for-all: worker i computes partition i; the master waits for all n (uncoded baseline).
 * - ignore-stragglers: worker i computes partition i; the master averages the first n-s
 *   arrivals and ignores the rest (a biased gradient).
 * - replication: worker i computes the same s+1 partitions as in the cyclic code but sends them
 *   uncoded; the master uses the first copy of each partition (s+1 times the bits of coding).
 */
export type CodingStrategy = 'coded' | 'wait-for-all' | 'ignore-stragglers' | 'replication';

export interface GradientCodingConfig extends SgdHyperparameters {
  strategy: CodingStrategy;
  scheme: 'cyclic' | 'fractional';
  stragglersTolerated: number;
}

/** Op namespace of the push/pull between workers and the master. */
export const CODING_NAMESPACE = 'gradient-coding';

/** The run's gradient code (built from the seed, the same in every process), or null if the strategy needs none. */
export function gradientCodeFor(cfg: GradientCodingConfig, workers: number, seed: number): GradientCode | null {
  if (cfg.strategy === 'wait-for-all' || cfg.strategy === 'ignore-stragglers') return null;
  return createGradientCode(cfg.scheme, workers, cfg.stragglersTolerated, seed);
}

/** Which partitions a worker computes under a strategy. */
export function partitionsFor(strategy: CodingStrategy, code: GradientCode | null, worker: number): number[] {
  if (strategy === 'wait-for-all' || strategy === 'ignore-stragglers' || !code) return [worker];
  return code.partitionsOf(worker);
}

/**
 * The worker side (Tandon et al. 2017, Algorithm 1 for the coded strategy):
 *
 *   for t = 1..T:
 *     g_j = ∇f(x; batch of partition j)  for each partition j this worker holds
 *     coded:       c_i = Σ_j B[i][j] g_j          (src/coding encode)
 *     replication: the g_j back to back; otherwise g_i
 *     push to the master; x = the model it returns
 *
 * A worker the master did not wait for starts the next step when the new model reaches it.
 */
export async function runGradientCodingWorker(ctx: WorkerContext, cfg: GradientCodingConfig): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const code = gradientCodeFor(cfg, ctx.workers, ctx.seed);
  const params = Float32Array.from(ctx.initialParams);
  const parts = partitionsFor(cfg.strategy, code, ctx.rank);
  const grads = new Map(parts.map((j) => [j, new Float32Array(d)]));
  // coded / uncoded: one vector; replication: the s+1 partition gradients back to back.
  const out = new Float32Array(cfg.strategy === 'replication' ? parts.length * d : d);
  let first = 1;
  if (ctx.replacement) {
    // A replacement for a crashed worker: the model is the one the master sends at the end of
    // the step before its first; the data streams go on where they would have been.
    const round = await receiveRejoinModel(ep, CODING_NAMESPACE, params);
    if (round === null) return;
    first = round + 1;
    for (let s = 1; s < first; s++) for (const j of parts) ctx.partitionBatch(j);
  }
  for (let step = first; step <= ctx.steps; step++) {
    // Gradient coding tolerates crashed workers: the master decodes without them.
    if (ctx.crashesAt(step)) return ctx.crash(step);
    let lossSum = 0;
    // A label-flipping Byzantine worker (backup-workers) trains on flipped labels.
    const stepOracle = ctx.byzantine?.oracleAt(step) ?? oracle;
    for (const j of parts) lossSum += stepOracle.lossAndGrad(params, ctx.partitionBatch(j), grads.get(j)!);
    const { wallSec, cpuSec } = stepOracle.lastTiming();
    if (cfg.strategy === 'replication') parts.forEach((j, k) => out.set(grads.get(j)!, k * d));
    else if (cfg.strategy === 'coded' && code) encode(code, ctx.rank, grads, out);
    else out.set(grads.get(parts[0]!)!);
    // What a Byzantine worker sends instead (uncoded strategies: backup-workers).
    ctx.byzantine?.corrupt(step, params, out);
    // Every partition costs one gradient computation; the straggler delay is per worker-step.
    const t = ctx.computeTime(step, wallSec);
    const compute = t.compute * parts.length;
    // The step ends for everyone when the new model arrives; a straggler abandons its work then.
    const round = await pushAbandoning(ep, CODING_NAMESPACE, out, compute, t.delay);
    params.set(bytesToF32(round.payload));
    await finishStep(ctx, step, { loss: lossSum / parts.length, compute: round.compute, delay: round.delay, wallSec, cpuSec }, round.comm, params);
  }
}
