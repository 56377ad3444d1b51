import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import { pushAbandoning } from '../common/push-abandoning.ts';
import { finishStep, type WorkerContext } from '../worker-context.ts';
import { blockCount, type EncodedOptimizationConfig } from './config.ts';
import { encodedBlockFor } from './encoded-data.ts';
import { modelParallelWorker } from './model-parallel.ts';

/** Op namespace of the push/pull between workers and the master. */
export const ENCODED_NAMESPACE = 'encoded-optimization';

/**
 * The worker of encoded optimization (Karakus et al. 2017), oblivious to the encoding: it holds
 * its block (X_b, y_b) of the encoded data and, each step,
 *
 *   g_b = (2/N) X_b^T (X_b w - y_b) + (lambda / B) w        (B blocks; N data rows)
 *   push g_b (fp32) to the master; w = the model it returns
 *
 * so that the master's (B/k) sum over k blocks is the gradient of
 * f(w) = (1/N) ||S (X w - y)||^2 + (lambda/2) ||w||^2, the model's mean squared error (plus the
 * ridge term) when S^T S = I. The reported loss is B/N ||X_b w - y_b||^2 + (lambda/2)||w||^2,
 * whose mean over the blocks is f(w). Float64 arithmetic; the step allocates nothing.
 *
 * The block costs the compute model's time for `rows` samples (one batch of data.batchSize
 * scaled by rows / batchSize): redundancy beta costs beta times the uncoded computation.
 */
export async function runEncodedWorker(ctx: WorkerContext, cfg: EncodedOptimizationConfig): Promise<void> {
  const { ep } = ctx;
  const data = ctx.trainingData?.();
  if (!data) throw new Error('encoded-optimization needs the training rows (WorkerContext.trainingData)');
  if (data.classes > 0) return runModelParallelWorker(ctx, cfg, data);
  const blk = encodedBlockFor(cfg, data, ctx.workers, ctx.rank, ctx.seed);
  const { x, y, rows, p } = blk;
  if (ctx.initialParams.length !== p) throw new Error(`encoded-optimization: model has ${ctx.initialParams.length} parameters, expected ${p} (linear model on ${p - 1} inputs)`);
  const blocks = blockCount(cfg, ctx.workers);
  const scale = 2 / blk.samples;
  const params = Float32Array.from(ctx.initialParams);
  const w = new Float64Array(p);
  const g64 = new Float64Array(p);
  const out = new Float32Array(p);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    for (let c = 0; c < p; c++) w[c] = params[c]!;
    g64.fill(0);
    let sq = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * p;
      let res = -y[r]!;
      for (let c = 0; c < p; c++) res += x[o + c]! * w[c]!;
      sq += res * res;
      const s = scale * res;
      for (let c = 0; c < p; c++) g64[c] = g64[c]! + s * x[o + c]!;
    }
    let ww = 0;
    for (let c = 0; c < p; c++) {
      ww += w[c]! * w[c]!;
      out[c] = g64[c]! + (cfg.ridge / blocks) * w[c]!;
    }
    const loss = (blocks / blk.samples) * sq + 0.5 * cfg.ridge * ww;
    // Modelled compute only (measured wall time is not read here: no clocks in optimizers/).
    const t = ctx.computeTime(step, 0);
    const compute = t.compute * (rows / data.batchSize);
    // As gradient coding's workers: a straggler abandons its work when the new model arrives.
    const round = await pushAbandoning(ep, ENCODED_NAMESPACE, out, compute, t.delay);
    params.set(bytesToF32(round.payload));
    await finishStep(ctx, step, { loss, compute: round.compute, delay: round.delay, wallSec: 0, cpuSec: 0 }, round.comm, params);
  }
}

/**
 * The worker of the model-parallel encoding (a linear classifier; model-parallel.ts): its block
 * of the encoded parameters, the same push/pull and straggler handling as above. The block costs
 * N x m_b multiply-adds per class twice, modelled as (N m_b) / (batchSize p) batches.
 */
async function runModelParallelWorker(ctx: WorkerContext, cfg: EncodedOptimizationConfig, data: NonNullable<ReturnType<NonNullable<WorkerContext['trainingData']>>>): Promise<void> {
  const { ep } = ctx;
  const mp = modelParallelWorker(cfg, data, ctx.workers, ctx.rank, ctx.seed, ctx.initialParams);
  const params = Float32Array.from(ctx.initialParams);
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const loss = mp.step();
    const t = ctx.computeTime(step, 0);
    const compute = t.compute * mp.workUnits;
    const round = await pushAbandoning(ep, ENCODED_NAMESPACE, mp.out, compute, t.delay);
    mp.receive(bytesToF32(round.payload), params);
    await finishStep(ctx, step, { loss, compute: round.compute, delay: round.delay, wallSec: 0, cpuSec: 0 }, round.comm, params);
  }
}
