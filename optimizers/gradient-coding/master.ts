import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { combine, type GradientCode } from '../../src/coding/index.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { runMasterRounds } from '../common/master-round.ts';
import { Membership } from '../common/rejoin.ts';
import { sgdStep } from '../common/sgd-update.ts';
import { CODING_NAMESPACE, partitionsFor, type GradientCodingConfig } from './worker.ts';

/** What the master decided in one step (exposed for tests and the timeline). */
export interface CodingRound {
  step: number;
  /** Workers whose messages were used, in virtual arrival order. */
  used: number[];
  /** Virtual time at which the master had what it needed. */
  decodedAt: number;
}

/**
 * The master of the straggler strategies (worker.ts), on the parameter-server endpoint:
 *
 *   for t = 1..T:
 *     take pushes in virtual arrival order until the strategy has what it needs
 *       coded: the first n-s; g = Σ_k a_k c_k with B_F^T a = 1  (src/coding decoder + combine)
 *     x = SGD(x, g / n); send x to every live worker
 */
export async function runGradientCodingMaster(
  server: Endpoint,
  cfg: GradientCodingConfig,
  code: GradientCode | null,
  initialParams: Float32Array,
  steps: number,
  onRound?: (r: CodingRound) => void,
  /** Who takes part in which step (the fault timeline's crashes and rejoins). */
  membership: Membership = new Membership(server.size, steps, []),
): Promise<void> {
  const n = server.size;
  const s = cfg.stragglersTolerated;
  const d = initialParams.length;
  const model = Float32Array.from(initialParams);
  const velocity = new Float32Array(d);
  const grad = new Float32Array(d);
  const acc = new Float64Array(d);
  // Only what the strategy takes goes on the link (the first n-s by arrival: receivePushes'
  // order); replication needs copies until every partition is covered, so it takes all.
  const need = cfg.strategy === 'wait-for-all' || cfg.strategy === 'replication' ? Infinity : n - s;
  await runMasterRounds({
    server,
    namespace: CODING_NAMESPACE,
    membership,
    roundSteps: Array.from({ length: steps }, (_, i) => i + 1),
    accept: (k) => k < need,
    reduce(step, pushes, live) {
      const arrivals = pushes.sort((x, y) => Number(y.used) - Number(x.used) || x.at - y.at || x.r - y.r);
      acc.fill(0);
      let used: number[] = [];
      let decodedAt = 0;
      const addScaled = (v: Float32Array, c: number, offset = 0) => {
        for (let i = 0; i < d; i++) acc[i] = acc[i]! + c * v[offset + i]!;
      };
      switch (cfg.strategy) {
        case 'wait-for-all':
        case 'ignore-stragglers': {
          // wait-for-all waits for every live worker; a crashed worker's partition is lost.
          const take = Math.min(live.length, cfg.strategy === 'wait-for-all' ? n : n - s);
          const first = arrivals.slice(0, take);
          for (const a of first) addScaled(bytesToF32(a.m.payload), 1 / take);
          used = first.map((a) => a.r);
          decodedAt = first[first.length - 1]!.at;
          grad.set(acc);
          break;
        }
        case 'coded': {
          if (!code) throw new Error('coded strategy without a code');
          if (live.length < n - s) {
            throw new Error(`step ${step}: cannot decode: only ${live.length} of ${n} workers are alive, the code tolerates ${s} stragglers`);
          }
          const first = arrivals.slice(0, n - s);
          used = first.map((a) => a.r);
          // Σ_k a_k (coded vector of responder k) = Σ over partitions of their gradients; / n averages.
          const a = Array.from(code.decoder(used), (c) => c / n);
          combine(a, first.map((p) => bytesToF32(p.m.payload)), grad);
          decodedAt = first[first.length - 1]!.at;
          break;
        }
        case 'replication': {
          if (!code) throw new Error('replication strategy without a partition assignment');
          const covered = new Array<boolean>(n).fill(false);
          let left = n;
          for (const a of arrivals) {
            const parts = partitionsFor('replication', code, a.r);
            const v = bytesToF32(a.m.payload);
            let useful = false;
            parts.forEach((j, k) => {
              if (covered[j]) return;
              covered[j] = true;
              left--;
              useful = true;
              addScaled(v, 1 / n, k * d);
            });
            if (useful) used.push(a.r);
            if (left === 0) {
              decodedAt = a.at;
              break;
            }
          }
          if (left > 0) throw new Error(`step ${step}: ${left} partition(s) have no live replica (crashed workers)`);
          grad.set(acc);
          break;
        }
      }
      server.now = Math.max(server.now, decodedAt);
      sgdStep(model, grad, velocity, learningRate(cfg.lr, cfg.schedule, step, steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
      onRound?.({ step, used, decodedAt });
      return model;
    },
  });
}
