import { chunkStart } from '../collectives/chunks.ts';
import { allGather, messageUnitTimer } from '../collectives/configured.ts';
import { allToAllPattern, receiveDeclared, sendDeclared } from '../collectives/run-sized-unit.ts';
import { receivePushes, allWorkers } from '../collectives/server-ingress.ts';
import type { Endpoint } from '../endpoint.ts';
import { decodeOneBit, decodeOneBitAdd, encodeOneBit } from './one-bit.ts';
import type { OneBitAdamServer } from './onebit-adam.ts';

/*
 * 1-bit Adam's compressed all-reduce (Tang et al. 2021, Section 4 / Figure 2, the layout of
 * DeepSpeed's compressed_allreduce): every worker has already compressed its local momentum
 * (OneBitAdamWorker.compressLocalMomentum: 1 bit per element + one scale, worker error kept);
 * what travels is only 1-bit payloads (one-bit.ts wire format).
 *
 * Without a parameter server each rank serves one contiguous chunk of the vector: a compressed
 * all-to-all (chunk j of every worker's vector to rank j), rank j averages its chunk, compresses
 * the average with its server error (one OneBitAdamServer per rank, for its chunk), and an
 * all-gather brings every compressed chunk to everyone. Per step that is
 * 2 (n - 1) Σ_j (9 + ⌈len_j / 8⌉) bytes over all workers.
 *
 * Through a parameter server (a star) the workers push their whole compressed vector, the server
 * averages, compresses with its error and sends the same 1-bit payload back to every worker:
 * n (9 + ⌈d / 8⌉) bytes up and as many down per step.
 */

export const ONEBIT_NAMESPACE = 'onebit-adam';

/** The chunk of the vector rank j serves. */
export function oneBitChunk(j: number, d: number, n: number): { start: number; end: number } {
  return { start: chunkStart(j, d, n), end: chunkStart(j + 1, d, n) };
}

/**
 * Chunked compressed all-reduce: `sent` is this worker's compressed vector (scale * sign, as
 * oneBitCompress wrote it) with its `scale`; `server` holds the error of this rank's chunk.
 * `out` receives the averaged, server-compressed momentum (identical on every rank).
 */
export async function oneBitChunkedAllReduce(ep: Endpoint, sent: Float32Array, scale: number, server: OneBitAdamServer, out: Float32Array): Promise<void> {
  const n = ep.size;
  const r = ep.rank;
  const d = sent.length;
  const op = ep.nextOp(ONEBIT_NAMESPACE);
  const chunkOf = (j: number): Float32Array => {
    const { start, end } = oneBitChunk(j, d, n);
    return sent.subarray(start, end);
  };
  const sends = Array.from({ length: n - 1 }, (_, k) => {
    const j = (r + k + 1) % n;
    return { to: j, payload: encodeOneBit(chunkOf(j), scale) };
  });
  // Timed as a unit where message collectives are (max-min, cut-through topologies): the
  // all-to-all's flows into and out of each NIC share it.
  const unit = messageUnitTimer(ep);
  let received: Uint8Array[] | null = null;
  if (unit && n > 1) received = await receiveDeclared(ep, sendDeclared(ep, op, sends), Array.from({ length: n - 1 }, (_, k) => (k < r ? k : k + 1)), unit, '1-bit all-to-all', allToAllPattern(n));
  else for (const m of sends) ep.send(m.to, op, 0, m.payload);
  const own = chunkOf(r);
  if (server.d !== own.length) throw new Error(`1-bit all-reduce: rank ${r} serves ${own.length} values, its server state has ${server.d}`);
  const avg = new Float32Array(own.length);
  // Rank order on every rank's chunk, the own payload decoded like the others.
  for (let j = 0; j < n; j++) {
    const p = j === r ? encodeOneBit(own, scale) : received ? received[j < r ? j : j - 1]! : (await ep.recv(j, op, 0)).payload;
    decodeOneBitAdd(p, avg, 1 / n);
  }
  const s = server.compress(avg);
  const all = await allGather(ep, encodeOneBit(server.sent, s));
  for (let j = 0; j < n; j++) {
    const { start, end } = oneBitChunk(j, d, n);
    decodeOneBit(all[j]!, out.subarray(start, end));
  }
}

/** The worker side through a parameter server: push the compressed vector, decode the reply. */
export async function oneBitPushPull(ep: Endpoint, sent: Float32Array, scale: number, out: Float32Array): Promise<void> {
  const op = ep.nextOp('ps');
  const server = ep.size;
  ep.send(server, op, 0, encodeOneBit(sent, scale));
  const reply = await ep.recv(server, op, 1);
  decodeOneBit(reply.payload, out);
}

/**
 * One parameter-server round of the compression stage: average the decoded pushes in rank
 * order, compress with the server error, send the 1-bit payload to every worker. False when the
 * endpoint was closed. Uses the 'ps' op sequence, so warm-up rounds can be psServeRound's.
 */
export async function oneBitServeRound(server: Endpoint, state: OneBitAdamServer): Promise<boolean> {
  const op = server.nextOp('ps');
  const pushes = await receivePushes(server, allWorkers(server), op);
  if (!pushes) return false;
  const avg = new Float32Array(state.d);
  for (const p of pushes) decodeOneBitAdd(p.m.payload, avg, 1 / pushes.length);
  server.now = Math.max(server.now, ...pushes.map((p) => p.at));
  const bytes = encodeOneBit(state.sent, state.compress(avg));
  for (let r = 0; r < server.size; r++) server.send(r, op, 1, bytes);
  return true;
}
