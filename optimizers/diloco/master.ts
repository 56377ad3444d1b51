import { bytesToF32, f32Bytes } from '../../comm/collectives/chunks.ts';
import { receivePushes } from '../../comm/collectives/server-ingress.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { Membership, releaseWaiting, ROUND_REPLY, sendRoundModel } from '../common/rejoin.ts';
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
 * go on without workers that are down or late: the outer gradients that arrive (virtual time)
 * within `timeout` of the first one are averaged, the global parameters take the outer Nesterov
 * step, and every live worker — late ones included — continues from them.
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
  for (const [i, step] of syncSteps.entries()) {
    const op = server.nextOp(DILOCO_NAMESPACE);
    const live = membership.alive(step);
    // Pushes arrive in send order (one FIFO ingress): the first one sets the deadline.
    const pushes = await receivePushes(server, live, op, (k, at, taken) => timeout === null || k === 0 || at <= taken[0]! + timeout);
    if (!pushes) return;
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
    const bytes = f32Bytes(global, 0, d);
    sendRoundModel(server, op, step, i + 1, live, membership, bytes);
  }
  releaseWaiting(server, membership);
}

/** The worker side of one master synchronization: push Δ, continue from the returned θ. */
export async function dilocoPushPull(ep: Endpoint, outerGrad: Float32Array, global: Float32Array): Promise<void> {
  const op = ep.nextOp(DILOCO_NAMESPACE);
  ep.send(ep.size, op, 0, f32Bytes(outerGrad, 0, outerGrad.length));
  const reply = await ep.recv(ep.size, op, ROUND_REPLY);
  global.set(bytesToF32(reply.payload));
}
