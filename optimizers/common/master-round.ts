import { f32Bytes } from '../../comm/collectives/chunks.ts';
import { receivePushes } from '../../comm/collectives/server-ingress.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import type { Message } from '../../comm/message.ts';
import { releaseWaiting, sendRoundModel, type Membership } from './rejoin.ts';

/** A push as a master round sees it: from whom, its virtual arrival, whether it was taken. */
export interface RoundPush {
  r: number;
  m: Message;
  at: number;
  used: boolean;
}

export interface MasterRounds {
  server: Endpoint;
  /** Op namespace of the rounds (the workers push and pull in it). */
  namespace: string;
  membership: Membership;
  /** The step that ends each round, in order. */
  roundSteps: readonly number[];
  /** Which pushes a round takes: k-th in arrival order (comm/collectives/server-ingress.ts: when that is send order), its would-be arrival, arrivals taken so far, the push. */
  accept?: (k: number, arrival: number, taken: number[], push: { r: number; m: Message }) => boolean;
  /**
   * Form the round's model from its pushes (every live worker's, with arrival times) and set the
   * master's clock to when it had what it needed. The returned vector is sent as is.
   */
  reduce(step: number, pushes: RoundPush[], live: number[]): Float32Array;
}

/**
 * The master's round, once for every algorithm with a master that owns the model (DiLoCo on a
 * star, gradient coding):
 *
 *   for each round (ending at step t):
 *     live  = workers taking part in step t               (membership: crashes, rejoins)
 *     recv one push from each live worker, timed on the shared ingress in virtual send order
     (accept sees them in arrival order)
 *     model = reduce(pushes)                               (the algorithm's own part)
 *     decide rejoins; send the model to live workers and joining replacements
 *   tell replacements still waiting that the run is over
 */
export async function runMasterRounds(r: MasterRounds): Promise<void> {
  const { server, membership } = r;
  for (const [i, step] of r.roundSteps.entries()) {
    const op = server.nextOp(r.namespace);
    const live = membership.alive(step);
    const pushes = await receivePushes(server, live, op, r.accept);
    if (!pushes) return; // run over or failed
    const model = r.reduce(step, pushes, live);
    sendRoundModel(server, op, step, i + 1, live, membership, f32Bytes(model, 0, model.length));
  }
  releaseWaiting(server, membership);
}
