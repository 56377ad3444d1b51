import type { Endpoint } from '../endpoint.ts';
import { ringAllGatherChunks } from './ring-allgather-chunks.ts';
import { ringReduceScatter } from './reduce-scatter.ts';

/**
 * Ring all-reduce (sum) in place: reduce-scatter then all-gather, 2(n-1) steps, each moving
 * about len/n floats to the right neighbour. Any length (including 0) and any n >= 1.
 * With equal start times and equal chunks its virtual duration is 2(n-1)(a + M/(nB)).
 */
export async function ringAllReduce(ep: Endpoint, data: Float32Array): Promise<void> {
  const op = ep.nextOp();
  if (ep.size === 1 || data.length === 0) return;
  await ringReduceScatter(ep, data, op);
  await ringAllGatherChunks(ep, data, op, ep.size - 1);
}
