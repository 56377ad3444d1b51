// Ring all-reduce throughput: 4 OS processes over ws (direct peer links) and in-process, next
// to a plain memcpy of the same bytes measured in the same run.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import type { LinkTiming } from '../comm/message.ts';
import { BENCH_DIR, timeIt, writeResult } from './bench-io.ts';

const N = 4;
const LEN = Number(process.env['BENCH_FLOATS'] ?? 4 * 1024 * 1024);
const REPS = Number(process.env['BENCH_REPS'] ?? 5);
const BYTES = LEN * 4;
const free: LinkTiming = { transmit: (_f, _t, _b, s) => s, isShared: () => false };

// memcpy baseline: copy the vector's bytes once.
const src = new Float32Array(LEN).fill(1);
const dst = new Float32Array(LEN);
const memcpySec = await timeIt(() => dst.set(src), 20, 3);

// In-process: 4 endpoints in this process.
const router = new InprocRouter();
const eps = Array.from({ length: N }, (_, r) => {
  const ep = new Endpoint(r, N, router, free);
  router.attach(ep);
  return ep;
});
const vecs = eps.map(() => new Float32Array(LEN).fill(1));
const inprocSec = await timeIt(() => Promise.all(eps.map((ep, r) => ringAllReduce(ep, vecs[r]!))), REPS, 1);

// ws: 4 processes.
const children = Array.from({ length: N }, (_, r) =>
  fork(join(BENCH_DIR, 'allreduce-worker.ts'), [String(r), String(N), String(LEN), String(REPS)], { execArgv: ['--import', 'tsx'] }),
);
const ports = await Promise.all(children.map((c) => new Promise<number>((res) => c.once('message', (m: { port: number }) => res(m.port)))));
const peers = ports.map((port, r) => ({ process: r, ranks: [r], url: `ws://127.0.0.1:${port}` }));
const results = children.map((c) => new Promise<number[]>((res) => c.once('message', (m: { times: number[] }) => res(m.times))));
for (const c of children) c.send({ peers });
const all = await Promise.all(results);
// Everyone has finished: now the processes may go.
for (const c of children) c.send({ exit: true });
const perRep = all[0]!.map((_, i) => Math.max(...all.map((t) => t[i]!))).sort((a, b) => a - b);
const wsSec = perRep[Math.floor(perRep.length / 2)]!;

const gbps = (sec: number) => BYTES / sec / 1e9;
// Bus bandwidth: bytes each worker moves, 2(n-1)/n of the vector, per second.
const bus = (sec: number) => (BYTES * 2 * (N - 1)) / N / sec / 1e9;
writeResult('allreduce-throughput', {
  workers: N,
  floats: LEN,
  bytes: BYTES,
  memcpy: { sec: memcpySec, GBps: gbps(memcpySec) },
  inproc: { sec: inprocSec, algGBps: gbps(inprocSec), busGBps: bus(inprocSec), vsMemcpy: memcpySec / inprocSec },
  ws4processes: { sec: wsSec, algGBps: gbps(wsSec), busGBps: bus(wsSec), vsMemcpy: memcpySec / wsSec },
  note: 'algGBps = vector bytes / all-reduce time; busGBps = bytes each worker sends per second; vsMemcpy = memcpy time / all-reduce time',
});
