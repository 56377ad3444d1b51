import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, f32Bytes } from './chunks.ts';
import { allWorkers, receivePushes } from './server-ingress.ts';

/**
 * Parameter-server all-reduce over a star: every worker pushes its vector to the server
 * (rank === size), the server sums in rank order and sends the sum back to everyone.
 * The server's link is shared: the server times the contending pushes itself, in order of
 * (virtual send time, rank), so the result is deterministic whatever order bytes arrive in.
 */
export async function psAllReduce(ep: Endpoint, data: Float32Array): Promise<void> {
  const op = ep.nextOp('ps');
  const server = ep.size;
  ep.send(server, op, 0, f32Bytes(data, 0, data.length));
  const reply = await ep.recv(server, op, 1);
  data.set(bytesToF32(reply.payload));
}

/** One server round; returns false when the endpoint was closed. */
export async function psServeRound(server: Endpoint): Promise<boolean> {
  const op = server.nextOp('ps');
  const n = server.size;
  const pushes = await receivePushes(server, allWorkers(server), op);
  if (!pushes) return false;
  const msgs = pushes.map((p) => p.m);
  const ready = Math.max(server.now, ...pushes.map((p) => p.at));
  const len = msgs[0]!.payload.byteLength / 4;
  const sum = new Float32Array(len);
  for (let r = 0; r < n; r++) {
    const v = bytesToF32(msgs[r]!.payload);
    if (v.length !== len) throw new Error(`parameter server: rank ${r} pushed ${v.length} values, rank 0 pushed ${len}`);
    for (let i = 0; i < len; i++) sum[i] = sum[i]! + v[i]!;
  }
  server.now = ready;
  const bytes = f32Bytes(sum, 0, len);
  for (let r = 0; r < n; r++) server.send(r, op, 1, bytes);
  return true;
}

/** Serve rounds until the endpoint fails (run over). */
export async function psServe(server: Endpoint): Promise<void> {
  while (await psServeRound(server)) {
    /* next round */
  }
}
