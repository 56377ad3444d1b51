import type { Compressor } from '../compress/compressor.ts';
import type { Endpoint } from '../endpoint.ts';
import { allGather } from './configured.ts';

/**
 * Aggregate variable-size compressed payloads by ring all-gather: every worker receives every
 * other worker's payload (each payload crosses n-1 links) and decodes the average itself, in
 * rank order, so all workers end with bit-identical results. No dense vector ever travels.
 * out = (1/n) * sum_r decode(payload_r).
 */
export async function allGatherAverage(ep: Endpoint, compressor: Compressor, payload: Uint8Array, out: Float32Array): Promise<Uint8Array[]> {
  const all = await allGather(ep, payload);
  out.fill(0);
  const scale = 1 / ep.size;
  for (let r = 0; r < all.length; r++) compressor.decodeAdd(all[r]!, out, scale);
  return all;
}
