import { bytesToF32, f32Bytes } from '../../comm/collectives/chunks.ts';
import { pushAndAwaitReply } from '../../comm/collectives/push-pull.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { runMasterRounds } from '../common/master-round.ts';
import type { Membership } from '../common/rejoin.ts';
import { sgdStep } from '../common/sgd-update.ts';

export const DILOCO_NAMESPACE = 'diloco';

/** The steps at which DiLoCo synchronizes: every H steps and at the last one. */
export function dilocoSyncSteps(h: number, steps: number): number[] {
  const out: number[] = [];
  for (let s = h; s <= steps; s += h) out.push(s);
  if (out[out.length - 1] !== steps) out.push(steps);
  return out;
}

/**
 * DiLoCo's outer optimizer on the parameter server (star topology), which lets a synchronization
 * go on without workers that are down or late:
 *
 *   each synchronization:
 *     Δ̄ = mean of the outer gradients arriving within `timeout` of the first one
 *     θ = NesterovSGD(θ, Δ̄; outerLr, outerMomentum)
 *     every live worker (late ones included) continues from θ
 */
export async function runDilocoMaster(
  server: Endpoint,
  initialParams: Float32Array,
  syncSteps: readonly number[],
  outerLr: number,
  outerMomentum: number,
  timeout: number | null,
  membership: Membership,
  onRound?: (r: { step: number; used: number[] }) => void,
): Promise<void> {
  const d = initialParams.length;
  const global = Float32Array.from(initialParams);
  const velocity = new Float32Array(d);
  const avg = new Float32Array(d);
  await runMasterRounds({
    server,
    namespace: DILOCO_NAMESPACE,
    membership,
    roundSteps: syncSteps,
    // accept sees the pushes in arrival order (receivePushes): the first to arrive sets the deadline.
    accept: (k, at, taken) => timeout === null || k === 0 || at <= taken[0]! + timeout,
    reduce(step, pushes) {
      pushes.sort((x, y) => x.at - y.at || x.r - y.r);
      const used = pushes.filter((p) => p.used);
      avg.fill(0);
      for (const p of used) {
        const v = bytesToF32(p.m.payload);
        for (let i = 0; i < d; i++) avg[i] = avg[i]! + v[i]! / used.length;
      }
      server.now = Math.max(server.now, used[used.length - 1]!.at);
      sgdStep(global, avg, velocity, outerLr, outerMomentum, 0, true);
      onRound?.({ step, used: used.map((p) => p.r) });
      return global;
    },
  });
}

/** The worker side of one master synchronization: push Δ, continue from the returned θ. */
export async function dilocoPushPull(ep: Endpoint, outerGrad: Float32Array, global: Float32Array): Promise<void> {
  const reply = await pushAndAwaitReply(ep, DILOCO_NAMESPACE, f32Bytes(outerGrad, 0, outerGrad.length));
  global.set(bytesToF32(reply.payload));
}
