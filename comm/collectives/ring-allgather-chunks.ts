import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, chunkStart, f32Bytes, mod } from './chunks.ts';

/**
 * Second half of ring all-reduce: rank r starts owning chunk (r+1) mod n and after n-1 steps
 * every rank holds every chunk (copied, not re-reduced, so all ranks end identical).
 */
export async function ringAllGatherChunks(ep: Endpoint, data: Float32Array, op: number, stepOffset: number): Promise<void> {
  const n = ep.size;
  const r = ep.rank;
  const len = data.length;
  if (n === 1) return;
  const right = mod(r + 1, n);
  const left = mod(r - 1, n);
  for (let s = 0; s < n - 1; s++) {
    const sendChunk = mod(r + 1 - s, n);
    ep.send(right, op, stepOffset + s, f32Bytes(data, chunkStart(sendChunk, len, n), chunkStart(sendChunk + 1, len, n)));
    const recvChunk = mod(r - s, n);
    const msg = await ep.recv(left, op, stepOffset + s);
    const start = chunkStart(recvChunk, len, n);
    const incoming = bytesToF32(msg.payload);
    if (incoming.length !== chunkStart(recvChunk + 1, len, n) - start) throw new Error(`all-gather: chunk ${recvChunk} has the wrong size`);
    data.set(incoming, start);
  }
}
