import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { EncodedLbfgs } from '../../src/coding/encoded/index.ts';
import { runMasterRounds, type RoundPush } from '../common/master-round.ts';
import type { Membership } from '../common/rejoin.ts';
import { blockCount, blockOf, type EncodedOptimizationConfig } from './config.ts';
import { ModelParallelState } from './model-parallel.ts';
import { ENCODED_NAMESPACE } from './worker.ts';

/** What the master did in one step (tests, experiments). */
export interface EncodedRound {
  step: number;
  /** Workers whose gradients arrived among the first k, ascending. */
  used: number[];
  /** Distinct blocks they covered (replication: partitions), ascending. */
  blocks: number[];
  /** Virtual time at which the k-th gradient had arrived. */
  decidedAt: number;
  /** The model after the step (float64 copy). */
  model: Float64Array;
}

/**
 * The master rounds both encodings share: every step a round that takes the first k pushes, and
 * `step` decides from the used ones, in rank order (so sums do not depend on arrival order among
 * the k). The master's clock moves to the arrival of the last of them.
 */
function encodedRounds(server: Endpoint, cfg: EncodedOptimizationConfig, steps: number, membership: Membership, step: (t: number, used: RoundPush[], decidedAt: number) => Float32Array): Promise<void> {
  return runMasterRounds({
    server,
    namespace: ENCODED_NAMESPACE,
    membership,
    roundSteps: Array.from({ length: steps }, (_, i) => i + 1),
    accept: (k) => k < cfg.k,
    reduce(t, pushes) {
      const used = pushes.filter((q) => q.used).sort((a, b) => a.r - b.r);
      let decidedAt = server.now;
      for (const q of used) decidedAt = Math.max(decidedAt, q.at);
      const reply = step(t, used, decidedAt);
      server.now = Math.max(server.now, decidedAt);
      return reply;
    },
  });
}

/**
 * The master of encoded optimization, on the parameter-server endpoint, oblivious to the
 * encoding:
 *
 *   for t = 1..T:
 *     take the first k pushes by virtual arrival on the ingress (ties by rank); the rest are
 *       not put on the link
 *     A = the blocks they carry (replication: distinct partitions; a second copy is dropped)
 *     gd:    w <- w - lr (B/|A|) sum_{b in A} g_b
 *     lbfgs: w <- w + lr d, d from EncodedLbfgs.stepFromBlocks (curvature from blocks seen at
 *            both points)
 *     round w to fp32 (what the workers receive, so both sides compute at the same point);
 *     send w to every live worker
 *
 * Sums run in block order, so the result does not depend on arrival order among the k.
 */
export async function runEncodedMaster(
  server: Endpoint,
  cfg: EncodedOptimizationConfig,
  initialParams: Float32Array,
  steps: number,
  membership: Membership,
  onRound?: (r: EncodedRound) => void,
): Promise<void> {
  const n = server.size;
  const p = initialParams.length;
  const nb = blockCount(cfg, n);
  const w = Float64Array.from(initialParams);
  const model = Float32Array.from(initialParams);
  const blocks = new Float64Array(nb * p);
  const have = new Uint8Array(nb);
  const g = new Float64Array(p);
  const lbfgs = cfg.method === 'lbfgs' ? new EncodedLbfgs({ p, workers: nb }, cfg.memory ?? 10) : null;
  await encodedRounds(server, cfg, steps, membership, (step, used, decidedAt) => {
    have.fill(0);
    const active: number[] = [];
    for (const q of used) {
      const b = blockOf(cfg, n, q.r);
      if (have[b]) continue; // replication: the same partition's gradient twice
      have[b] = 1;
      active.push(b);
      const v = bytesToF32(q.m.payload);
      for (let c = 0; c < p; c++) blocks[b * p + c] = v[c]!;
    }
    active.sort((a, b) => a - b);
    if (lbfgs) lbfgs.stepFromBlocks(w, active, blocks, cfg.lr);
    else {
      g.fill(0);
      const inv = nb / active.length;
      for (const b of active) for (let c = 0; c < p; c++) g[c] = g[c]! + inv * blocks[b * p + c]!;
      for (let c = 0; c < p; c++) w[c] = w[c]! - cfg.lr * g[c]!;
    }
    for (let c = 0; c < p; c++) {
      model[c] = w[c]!;
      w[c] = model[c]!;
    }
    onRound?.({ step, used: used.map((q) => q.r), blocks: active, decidedAt, model: Float64Array.from(w) });
    return model;
  });
}

/**
 * The master of the model-parallel encoding (a linear classifier with p inputs + bias and c
 * classes): each step the blocks of the first k workers are added to V and z (ModelParallelState),
 * and [W = S^T V, V, z] goes back to every worker.
 */
export async function runModelParallelMaster(
  server: Endpoint,
  cfg: EncodedOptimizationConfig,
  p: number,
  c: number,
  steps: number,
  seed: number,
  membership: Membership,
): Promise<void> {
  const state = new ModelParallelState(cfg, p, c, server.size, seed);
  await encodedRounds(server, cfg, steps, membership, (_step, used) => {
    for (const q of used) state.apply(q.r, bytesToF32(q.m.payload));
    return state.replyVector();
  });
}
