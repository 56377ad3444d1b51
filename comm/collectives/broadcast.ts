import type { Endpoint } from '../endpoint.ts';
import { mod } from './chunks.ts';

/**
 * Broadcast along the ring from `root`: each rank receives from its left neighbour and forwards
 * to its right one, stopping before the message would return to the root. Returns the payload.
 */
export async function ringBroadcast(ep: Endpoint, root: number, payload: Uint8Array | null): Promise<Uint8Array> {
  const op = ep.nextOp();
  const n = ep.size;
  const r = ep.rank;
  let data: Uint8Array;
  if (r === root) {
    if (!payload) throw new Error('broadcast: the root must provide a payload');
    data = payload;
  } else {
    data = (await ep.recv(mod(r - 1, n), op, 0)).payload;
  }
  if (mod(r + 1, n) !== root && n > 1) ep.send(mod(r + 1, n), op, 0, data);
  return data;
}
