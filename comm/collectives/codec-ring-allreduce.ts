import type { Compressor, Uniform } from '../compress/compressor.ts';
import type { Endpoint } from '../endpoint.ts';
import { chunkStart, mod } from './chunks.ts';

/**
 * Ring all-reduce (sum, in place) whose hops carry `compressor`-encoded chunks: for compressors
 * that keep density and whose payload size does not depend on the data (fp16, bf16). Partial
 * sums are re-encoded at every hop, as a real low-precision all-reduce would; the owner of each
 * reduced chunk replaces its own copy by the decoded value so every worker ends identical.
 */
export async function codecRingAllReduce(ep: Endpoint, data: Float32Array, compressor: Compressor, uniform: Uniform): Promise<void> {
  const op = ep.nextOp();
  const n = ep.size;
  const len = data.length;
  if (n === 1 || len === 0) return;
  const r = ep.rank;
  const right = mod(r + 1, n);
  const left = mod(r - 1, n);
  const view = (c: number) => data.subarray(chunkStart(c, len, n), chunkStart(c + 1, len, n));
  for (let s = 0; s < n - 1; s++) {
    ep.send(right, op, s, compressor.encode(view(mod(r - s, n)), uniform));
    const msg = await ep.recv(left, op, s);
    compressor.decodeAdd(msg.payload, view(mod(r - s - 1, n)), 1);
  }
  // Rank r owns chunk r+1: quantise it once, keep the decoded value, and circulate the bytes.
  const owned = view(mod(r + 1, n));
  let payload = compressor.encode(owned, uniform);
  compressor.decode(payload, owned);
  for (let s = 0; s < n - 1; s++) {
    ep.send(right, op, n - 1 + s, payload);
    const msg = await ep.recv(left, op, n - 1 + s);
    compressor.decode(msg.payload, view(mod(r - s, n)));
    payload = msg.payload;
  }
}
