import type { Endpoint } from '../endpoint.ts';
import { mod } from './chunks.ts';
import { checkDeclared, runSizedUnit, timedMover, untimedMover, type DeferTimer, type Mover, type UnitTimer } from './run-sized-unit.ts';
import { ringAllGatherSized } from './schedules/sized.ts';

/**
 * Ring all-gather of variable-size byte payloads: in n-1 steps each rank forwards the payload
 * it received last to its right neighbour. Returns payloads indexed by rank (own one included).
 * Each message is timed by the link model, or, with `unit` (max-min on a cut-through topology),
 * the whole all-gather is timed as a unit from every rank's declared size (run-sized-unit.ts).
 */
export async function ringAllGather(ep: Endpoint, payload: Uint8Array, unit?: UnitTimer, defer?: DeferTimer): Promise<Uint8Array[]> {
  const op = ep.nextOp();
  if (!unit || ep.size === 1) return gatherRing(ep, payload, op, timedMover(ep));
  return runSizedUnit(ep, op, payload.byteLength, 'ring all-gather', ringAllGatherSized, unit, async (sizes) => {
    const out = await gatherRing(ep, payload, op, untimedMover(ep));
    out.forEach((p, r) => checkDeclared('ring all-gather', r, p.byteLength, sizes[r]!));
    return out;
  }, defer);
}

/** The ring's messages with a given mover (the unit-timed auto all-gather moves its bytes with it). */
export async function gatherRing(ep: Endpoint, payload: Uint8Array, op: number, move: Mover): Promise<Uint8Array[]> {
  const n = ep.size;
  const r = ep.rank;
  const out: Uint8Array[] = new Array(n);
  out[r] = payload;
  const right = mod(r + 1, n);
  const left = mod(r - 1, n);
  for (let s = 0; s < n - 1; s++) {
    move.send(right, op, s, out[mod(r - s, n)]!);
    const msg = await move.recv(left, op, s);
    out[mod(r - s - 1, n)] = msg.payload;
  }
  return out;
}
