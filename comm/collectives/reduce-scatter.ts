import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, chunkStart, f32Bytes, mod } from './chunks.ts';

/**
 * Ring reduce-scatter, in place: after n-1 steps rank r holds the full sum of chunk (r+1) mod n
 * (chunks as in chunkStart). Every partial sum is formed in ring order starting at the chunk's
 * index, so all ranks agree bit-for-bit on the reduced values. Returns the owned chunk index.
 */
export async function ringReduceScatter(ep: Endpoint, data: Float32Array, op = ep.nextOp()): Promise<number> {
  const n = ep.size;
  const r = ep.rank;
  const len = data.length;
  if (n === 1) return 0;
  const right = mod(r + 1, n);
  const left = mod(r - 1, n);
  for (let s = 0; s < n - 1; s++) {
    const sendChunk = mod(r - s, n);
    ep.send(right, op, s, f32Bytes(data, chunkStart(sendChunk, len, n), chunkStart(sendChunk + 1, len, n)));
    const recvChunk = mod(r - s - 1, n);
    const msg = await ep.recv(left, op, s);
    const incoming = bytesToF32(msg.payload);
    const start = chunkStart(recvChunk, len, n);
    const end = chunkStart(recvChunk + 1, len, n);
    if (incoming.length !== end - start) throw new Error(`reduce-scatter: chunk ${recvChunk} has ${incoming.length} values, expected ${end - start}`);
    for (let i = start, j = 0; i < end; i++, j++) data[i] = incoming[j]! + data[i]!;
  }
  return mod(r + 1, n);
}
