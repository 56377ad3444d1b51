import type { Compressor } from '../compress/compressor.ts';
import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, f32Bytes } from './chunks.ts';
import { allWorkers, receivePushes } from './server-ingress.ts';

/**
 * Parameter-server aggregation of compressed payloads over a star: workers push their payload,
 * the server decodes and averages them in rank order and sends the dense fp32 average back
 * (downlink bytes are counted as the server's). Shared ingress is timed by the server in
 * (virtual send time, rank) order, as in psAllReduce.
 */
export async function psPushPullAverage(ep: Endpoint, payload: Uint8Array, out: Float32Array): Promise<void> {
  const op = ep.nextOp('ps');
  const server = ep.size;
  ep.send(server, op, 0, payload);
  const reply = await ep.recv(server, op, 1);
  out.set(bytesToF32(reply.payload));
}

/** One server round for psPushPullAverage; false when the endpoint was closed. */
export async function psServeCompressedRound(server: Endpoint, compressor: Compressor, length: number): Promise<boolean> {
  const op = server.nextOp('ps');
  const n = server.size;
  const pushes = await receivePushes(server, allWorkers(server), op);
  if (!pushes) return false;
  const msgs = pushes.map((p) => p.m);
  const ready = Math.max(server.now, ...pushes.map((p) => p.at));
  const avg = new Float32Array(length);
  for (let r = 0; r < n; r++) compressor.decodeAdd(msgs[r]!.payload, avg, 1 / n);
  server.now = ready;
  const bytes = f32Bytes(avg, 0, length);
  for (let r = 0; r < n; r++) server.send(r, op, 1, bytes);
  return true;
}
