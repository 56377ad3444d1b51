/**
 * What a gossip run reports at its evaluation steps. There is no single model: rank 0 collects
 * every worker's parameters as uncounted, untimed metadata (an observer's view, like the
 * coordinator reading metrics: not the algorithm's traffic, so neither bits nor virtual time),
 * then reports the consensus distance (1/n) sum_i ||x_i - x_bar||^2, the test loss and accuracy of
 * the average model x_bar, and with `evaluate: each` every worker's own.
 */
import { consensusDistanceOf } from '../../comm/gossip/gossip-step.ts';
import { readF32s, writeF32s } from '../../comm/compress/wire-format.ts';
import type { WorkerContext } from '../worker-context.ts';

const MONITOR_NAMESPACE = 'gossip-monitor';

export function evaluationDue(ctx: WorkerContext, step: number): boolean {
  return step % ctx.evalEvery === 0 || step === ctx.steps;
}

/**
 * Call on every worker at every step after its update (collective on evaluation steps).
 * `extra` adds fields to the eval line (the privacy budget spent).
 */
export async function monitorGossip(ctx: WorkerContext, step: number, params: Float32Array, evaluate: 'average' | 'each', extra: Record<string, number> = {}): Promise<void> {
  if (!evaluationDue(ctx, step)) return;
  const { ep } = ctx;
  const op = ep.nextOp(MONITOR_NAMESPACE);
  if (ctx.rank !== 0) {
    const bytes = new Uint8Array(4 * params.length);
    writeF32s(params, params.length, bytes, 0);
    ep.sendMeta(0, op, step, bytes);
    return;
  }
  const n = ctx.workers;
  const d = params.length;
  const models: Float32Array[] = [params];
  for (let r = 1; r < n; r++) {
    const msg = await ep.recvRaw(r, op, step);
    if (msg.payload.byteLength !== 4 * d) throw new Error(`gossip monitor: worker ${r} sent ${msg.payload.byteLength} bytes, expected ${4 * d}`);
    // Socket buffers need not be 4-byte aligned: read, do not view.
    const x = new Float32Array(d);
    readF32s(msg.payload, 0, d, x);
    models.push(x);
  }
  const mean = new Float32Array(d);
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let r = 0; r < n; r++) s += models[r]![k]!;
    mean[k] = s / n;
  }
  const ev = await ctx.oracle.evaluate(mean);
  const fields: Record<string, number | number[]> = { consensusDistance: consensusDistanceOf(models), ...extra };
  if (evaluate === 'each') {
    const acc: number[] = [];
    const loss: number[] = [];
    for (const x of models) {
      const e = await ctx.oracle.evaluate(x);
      acc.push(e.accuracy);
      loss.push(e.loss);
    }
    fields['evalAccuracyByWorker'] = acc;
    fields['evalLossByWorker'] = loss;
  }
  ctx.report({ type: 'eval', rank: 0, step, simTime: ep.now, evalLoss: ev.loss, evalAccuracy: ev.accuracy, extra: fields });
}
