import type { Endpoint } from '../../comm/endpoint.ts';
import { REJOIN_MODEL, REJOIN_OP, ROUND_REPLY } from '../../comm/collectives/push-pull.ts';

export { REJOIN_MODEL, REJOIN_OP, ROUND_REPLY };

/*
 * Crashes and rejoins (fault timeline `crash` with `rejoin`), for the algorithms whose master
 * carries on without a crashed worker (gradient coding, DiLoCo on a star). The master decides
 * when a replacement joins, from its rounds' steps and virtual times, so the decision is the
 * same in every transport; the replacement is a fresh worker (a new process over ws) with no
 * state but the model the master sends it.
 */

/** Its header: the round's step and the round's 1-based index among the master's rounds. */
const HEADER_BYTES = 16;

/** A crash as the masters see it: step `at`, and a rejoin after `steps` steps or `time` seconds. */
export interface CrashSpec {
  worker: number;
  at: number;
  rejoin: { steps: number } | { time: number } | null;
}

/**
 * Who takes part in which step. Crashes are known in advance; rejoins are decided by the master
 * at the end of its rounds (`endRound`), in the order of its rounds, before it sends their
 * model, so the aggregator (same process) always knows who reports a step.
 */
export class Membership {
  private readonly back = new Map<number, number>();
  /** Virtual end time of the first round a crashed worker missed. */
  private readonly missedAt = new Map<number, number>();

  constructor(
    readonly workers: number,
    readonly steps: number,
    private readonly crashes: readonly CrashSpec[],
  ) {}

  private crashOf(worker: number): CrashSpec | undefined {
    return this.crashes.find((c) => c.worker === worker);
  }

  /** Workers alive at `step`: not between their crash and the step after their rejoin round. */
  alive(step: number): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.workers; w++) {
      const c = this.crashOf(w);
      const back = this.back.get(w);
      if (!c || step < c.at || (back !== undefined && step > back)) out.push(w);
    }
    return out;
  }

  /** The round after which `worker`'s replacement joined, or null (not crashed, or not back). */
  backAfter(worker: number): number | null {
    return this.back.get(worker) ?? null;
  }

  /**
   * The master's round ending at step `step` and virtual time `time` is complete: returns the
   * crashed workers whose replacement joins now (from step + 1). A rejoin after N steps joins at
   * the first round ending at or after step at + N - 1; after a time T, at the first round
   * ending at least T after the end of the first round it missed. Never at the last step.
   */
  endRound(step: number, time: number): number[] {
    const joining: number[] = [];
    for (const c of this.crashes) {
      if (c.rejoin === null || step < c.at || this.back.has(c.worker)) continue;
      if (!this.missedAt.has(c.worker)) this.missedAt.set(c.worker, time);
      if (step >= this.steps) continue;
      // (A round ending within a nanosecond of the deadline counts, so float rounding of sums of
      // link times does not decide ties.)
      const due = 'steps' in c.rejoin ? step >= c.at + c.rejoin.steps - 1 : time >= this.missedAt.get(c.worker)! + c.rejoin.time - 1e-9;
      if (due) {
        this.back.set(c.worker, step);
        joining.push(c.worker);
      }
    }
    return joining;
  }

  /** Crashed workers with a rejoin whose replacement has not joined (told at the end of the run). */
  waiting(): number[] {
    return this.crashes
      .filter((c) => c.rejoin !== null && c.at <= this.steps && !this.back.has(c.worker))
      .map((c) => c.worker)
      .sort((a, b) => a - b);
  }
}

/**
 * The end of a master round: decide the rejoins, then send the round's model to the workers that
 * took part (`live`) and to the replacements joining now, in rank order (one outgoing link: the
 * order decides the arrival times). `roundIndex` is the round's 1-based index (its wire op).
 */
export function sendRoundModel(server: Endpoint, op: number, step: number, roundIndex: number, live: readonly number[], membership: Membership, model: Uint8Array): void {
  const joining = new Set(membership.endRound(step, server.now));
  let rejoin: Uint8Array | null = null;
  // Sent together: under max-min sharing the replies share the server's egress port.
  const sends = [...new Set([...live, ...joining])].sort((a, b) => a - b).map((r) => {
    if (!joining.has(r)) return { to: r, op, step: ROUND_REPLY, payload: model };
    rejoin ??= rejoinPayload(step, roundIndex, model);
    return { to: r, op: REJOIN_OP, step: REJOIN_MODEL, payload: rejoin };
  });
  server.sendTogether(sends);
}

/** After the last round: tell replacements that never got to join that the run is over. */
export function releaseWaiting(server: Endpoint, membership: Membership): void {
  for (const r of membership.waiting()) server.send(r, REJOIN_OP, REJOIN_MODEL, rejoinPayload(-1, 0, new Uint8Array(0)));
}

function rejoinPayload(step: number, roundIndex: number, model: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + model.byteLength);
  const head = new DataView(out.buffer);
  head.setFloat64(0, step, true);
  head.setFloat64(8, roundIndex, true);
  out.set(model, HEADER_BYTES);
  return out;
}

/**
 * A crashed worker's replacement: wait for the model the master sends it, continue the master's
 * rounds after that one, start the clock when the model arrives. Returns the step of the round
 * it joined at (it runs from the next step), or null if the run ended first.
 */
export async function receiveRejoinModel(ep: Endpoint, namespace: string, model: Float32Array): Promise<number | null> {
  const msg = await ep.recvRaw(ep.size, REJOIN_OP, REJOIN_MODEL);
  // Copy: transport buffers need not be 4-byte aligned.
  const bytes = msg.payload.slice();
  const head = new DataView(bytes.buffer);
  const step = head.getFloat64(0, true);
  if (step < 0) return null;
  model.set(new Float32Array(bytes.buffer, HEADER_BYTES, (bytes.byteLength - HEADER_BYTES) / 4));
  ep.setOpCount(namespace, head.getFloat64(8, true));
  ep.now = msg.arrival;
  return step;
}
