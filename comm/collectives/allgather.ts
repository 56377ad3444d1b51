import type { Endpoint } from '../endpoint.ts';
import { mod } from './chunks.ts';

/**
 * Ring all-gather of variable-size byte payloads: in n-1 steps each rank forwards the payload
 * it received last to its right neighbour. Returns payloads indexed by rank (own one included).
 */
export async function ringAllGather(ep: Endpoint, payload: Uint8Array): Promise<Uint8Array[]> {
  const op = ep.nextOp();
  const n = ep.size;
  const r = ep.rank;
  const out: Uint8Array[] = new Array(n);
  out[r] = payload;
  const right = mod(r + 1, n);
  const left = mod(r - 1, n);
  for (let s = 0; s < n - 1; s++) {
    ep.send(right, op, s, out[mod(r - s, n)]!);
    const msg = await ep.recv(left, op, s);
    out[mod(r - s - 1, n)] = msg.payload;
  }
  return out;
}
