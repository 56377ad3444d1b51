import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import { receiveRejoinModel, ROUND_REPLY } from '../common/rejoin.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';
import type { SgdHyperparameters } from '../common/sgd-update.ts';

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

/** The part of a gradient code the workers and the master need (src/coding implements it). */
export interface GradientCodeLike {
  readonly n: number;
  readonly s: number;
  partitionsOf(worker: number): number[];
  /** Row of the encoding matrix B (length n, zero off the worker's partitions). */
  coefficients(worker: number): Float64Array;
  /** a with B_F^T a = 1 for responders F, a[k] belonging to responders[k]. */
  decoder(responders: number[]): Float64Array;
}

/** Op namespace of the push/pull between workers and the master. */
export const CODING_NAMESPACE = 'gradient-coding';

/** Which partitions a worker computes under a strategy. */
export function partitionsFor(strategy: CodingStrategy, code: GradientCodeLike | null, worker: number): number[] {
  if (strategy === 'wait-for-all' || strategy === 'ignore-stragglers' || !code) return [worker];
  return code.partitionsOf(worker);
}

/**
 * The worker side: compute the partition gradients, combine (coded) or concatenate
 * (replication) them, push to the master, and continue from the model it returns. A worker the
 * master did not wait for starts the next step when the new model reaches it.
 */
export async function runGradientCodingWorker(ctx: WorkerContext, cfg: GradientCodingConfig, code: GradientCodeLike | null): Promise<void> {
  const { ep, oracle } = ctx;
  const d = oracle.paramCount;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const parts = partitionsFor(cfg.strategy, code, ctx.rank);
  const coeff = cfg.strategy === 'coded' && code ? code.coefficients(ctx.rank) : null;
  // coded / uncoded: one vector; replication: the s+1 partition gradients back to back.
  const out = new Float32Array(cfg.strategy === 'replication' ? parts.length * d : d);
  const acc = new Float64Array(d);
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
    if (ctx.crashesAt(step)) return ctx.crash(step, true);
    acc.fill(0);
    let lossSum = 0;
    for (let k = 0; k < parts.length; k++) {
      const j = parts[k]!;
      lossSum += oracle.lossAndGrad(params, ctx.partitionBatch(j), grad);
      if (cfg.strategy === 'replication') out.set(grad, k * d);
      else {
        const c = coeff ? coeff[j]! : 1;
        for (let i = 0; i < d; i++) acc[i] = acc[i]! + c * grad[i]!;
      }
    }
    if (cfg.strategy !== 'replication') for (let i = 0; i < d; i++) out[i] = acc[i]!;
    const { wallSec, cpuSec } = oracle.lastTiming();
    // Every partition costs one gradient computation; the straggler delay is per worker-step.
    const t = ctx.computeTime(step, wallSec);
    const compute = t.compute * parts.length;
    const start = ep.now;
    ep.now += compute + t.delay;
    const sentAt = ep.now;
    const op = ep.nextOp(CODING_NAMESPACE);
    ep.send(ep.size, op, 0, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    const reply = await ep.recvRaw(ep.size, op, ROUND_REPLY);
    params.set(bytesToF32(reply.payload));
    // The step ends for everyone when the new model arrives; a straggler abandons its work then,
    // so only the compute and delay before that instant are reported (timeline and breakdown).
    ep.now = reply.arrival;
    const ran = Math.max(0, ep.now - start);
    const shownCompute = Math.min(compute, ran);
    const shownDelay = Math.min(t.delay, ran - shownCompute);
    await finishStep(ctx, step, { loss: lossSum / parts.length, compute: shownCompute, delay: shownDelay, wallSec, cpuSec }, Math.max(0, ep.now - sentAt), params);
  }
}
