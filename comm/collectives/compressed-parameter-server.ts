import type { Compressor } from '../compress/compressor.ts';
import type { Endpoint } from '../endpoint.ts';
import { psServeRoundWith } from './parameter-server.ts';

/*
 * Parameter-server aggregation of compressed payloads over a star: workers push their payload
 * (psPushPull), the server decodes and averages them in rank order and sends the dense fp32
 * average back (downlink bytes are counted as the server's).
 */

/** One server round of compressed averaging; false when the endpoint was closed. */
export function psServeCompressedRound(server: Endpoint, compressor: Compressor, length: number): Promise<boolean> {
  return psServeRoundWith(server, (payloads) => {
    const avg = new Float32Array(length);
    for (const p of payloads) compressor.decodeAdd(p, avg, 1 / payloads.length);
    return avg;
  });
}
