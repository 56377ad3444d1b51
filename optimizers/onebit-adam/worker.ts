import { oneBitChunk, oneBitChunkedAllReduce, oneBitPushPull } from '../../comm/onebit-adam/compressed-allreduce.ts';
import { OneBitAdamServer, OneBitAdamWorker } from '../../comm/onebit-adam/onebit-adam.ts';
import { learningRate, type ScheduleSpec } from '../common/lr-schedule.ts';
import { computeGradient, finishStep, type WorkerContext } from '../worker-context.ts';

export interface OneBitAdamConfig {
  lr: number;
  betas: [number, number];
  eps: number;
  /** Steps of full-precision Adam before the variance freezes. */
  freezeStep: number;
  biasCorrection: boolean;
  schedule: ScheduleSpec;
}

/** Through a parameter server on a star; otherwise the chunked all-to-all + all-gather. */
export function oneBitUsesServer(topology: string): boolean {
  return topology === 'star';
}

/**
 * 1-bit Adam (Tang et al. 2021, Algorithm 1) as a data-parallel algorithm:
 *
 *   steps 1..freezeStep (warm-up):  ḡ = all-reduce(g_i) / n (fp32);  Adam(x, ḡ)
 *   later steps (compression):      m_i = β1 m + (1-β1) g_i;  send C(m_i + e_i) (1 bit + scale)
 *                                   m = C(avg + e_s) from the server(s);  x -= lr m̂ / (√v̂ + ε)
 *
 * v is frozen at freezeStep; the arithmetic is comm/onebit-adam's (tested against Adam there).
 * The warm-up's all-reduce is the dense fp32 one of allreduce-sgd, so its bits are 32 per element
 * and its metrics are those of data-parallel Adam (tested against a plain Adam plugin); after
 * the freeze only 1-bit payloads travel (comm/onebit-adam/compressed-allreduce.ts).
 */
export async function runOneBitAdam(ctx: WorkerContext, cfg: OneBitAdamConfig): Promise<void> {
  const { ep } = ctx;
  const d = ctx.oracle.paramCount;
  const inv = 1 / ctx.workers;
  const params = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(d);
  const avg = new Float32Array(d);
  const core = new OneBitAdamWorker(d, { beta1: cfg.betas[0], beta2: cfg.betas[1], eps: cfg.eps, freezeStep: cfg.freezeStep, biasCorrection: cfg.biasCorrection });
  const viaServer = oneBitUsesServer(ctx.topology);
  const { start, end } = oneBitChunk(ctx.rank, d, ctx.workers);
  // Without a server this rank serves its chunk: the server-side error of that chunk.
  const server = viaServer ? null : new OneBitAdamServer(end - start);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const computed = computeGradient(ctx, step, params, grad);
    const lr = learningRate(cfg.lr, cfg.schedule, step, ctx.steps);
    const commStart = ep.now;
    if (core.warmingUp) {
      await ctx.allReduce(grad);
      for (let i = 0; i < d; i++) avg[i] = grad[i]! * inv;
      core.warmupStep(params, avg, lr);
    } else {
      const scale = core.compressLocalMomentum(grad);
      if (server) await oneBitChunkedAllReduce(ep, core.sent, scale, server, avg);
      else await oneBitPushPull(ep, core.sent, scale, avg);
      core.applyMomentum(params, avg, lr);
    }
    await finishStep(ctx, step, computed, ep.now - commStart, params);
  }
}
