import type { Endpoint } from '../endpoint.ts';
import { bytesToF32, f32Bytes } from './chunks.ts';

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
  let msgs;
  try {
    msgs = await Promise.all(Array.from({ length: n }, (_, r) => server.recvRaw(r, op, 0)));
  } catch {
    return false;
  }
  const order = msgs.map((m, r) => ({ m, r })).sort((x, y) => x.m.sendTime - y.m.sendTime || x.r - y.r);
  let ready = server.now;
  for (const { m } of order) {
    const t = server.linkTiming.transmit(m.from, server.rank, m.payload.byteLength, m.sendTime);
    if (t > ready) ready = t;
  }
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
