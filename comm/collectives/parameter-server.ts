import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, f32Bytes } from './chunks.ts';
import { allWorkers, receivePushes } from './server-ingress.ts';

/*
 * Parameter server over a star (the server is rank === size): every worker pushes a payload, the
 * server combines the payloads in rank order into one dense fp32 vector and sends it back to
 * everyone. The server's link is shared: the server times the contending pushes itself, in order
 * of (virtual send time, rank), so the result is deterministic whatever order bytes arrive in.
 */

/** The worker side of one round: push `payload`, receive the server's vector into `out`. */
export async function psPushPull(ep: Endpoint, payload: Uint8Array, out: Float32Array): Promise<void> {
  const op = ep.nextOp('ps');
  const server = ep.size;
  ep.send(server, op, 0, payload);
  const reply = await ep.recv(server, op, 1);
  out.set(bytesToF32(reply.payload));
}

/** Parameter-server all-reduce (sum) of a dense vector, in place. */
export function psAllReduce(ep: Endpoint, data: Float32Array): Promise<void> {
  return psPushPull(ep, f32Bytes(data, 0, data.length), data);
}

/**
 * The server side of one round: `combine` turns the pushed payloads (rank order) into the vector
 * sent back to every worker. Returns false when the endpoint was closed.
 */
export async function psServeRoundWith(server: Endpoint, combine: (payloads: Uint8Array[]) => Float32Array): Promise<boolean> {
  const op = server.nextOp('ps');
  const pushes = await receivePushes(server, allWorkers(server), op);
  if (!pushes) return false;
  const ready = Math.max(server.now, ...pushes.map((p) => p.at));
  const result = combine(pushes.map((p) => p.m.payload));
  server.now = ready;
  const bytes = f32Bytes(result, 0, result.length);
  server.sendTogether(Array.from({ length: server.size }, (_, r) => ({ to: r, op, step: 1, payload: bytes })));
  return true;
}

/** The sum of dense fp32 payloads (psAllReduce's server). */
function sumF32(payloads: Uint8Array[]): Float32Array {
  const len = payloads[0]!.byteLength / 4;
  const sum = new Float32Array(len);
  payloads.forEach((p, r) => {
    const v = bytesToF32(p);
    if (v.length !== len) throw new Error(`parameter server: rank ${r} pushed ${v.length} values, rank 0 pushed ${len}`);
    for (let i = 0; i < len; i++) sum[i] = sum[i]! + v[i]!;
  });
  return sum;
}

/** One psAllReduce server round; returns false when the endpoint was closed. */
export function psServeRound(server: Endpoint): Promise<boolean> {
  return psServeRoundWith(server, sumF32);
}

/** Serve rounds until the endpoint fails (run over). */
export async function psServe(server: Endpoint): Promise<void> {
  while (await psServeRound(server)) {
    /* next round */
  }
}
