// One process of the ring all-reduce throughput benchmark (forked by allreduce-throughput.ts).
import { ringAllReduce } from '../comm/collectives/ring-allreduce.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import type { LinkTiming } from '../comm/message.ts';
import { PeerMesh, type PeerEntry } from '../comm/transport/peer-mesh.ts';

const rank = Number(process.argv[2]);
const n = Number(process.argv[3]);
const len = Number(process.argv[4]);
const reps = Number(process.argv[5]);
const token = 'bench';
const free: LinkTiming = { transmit: (_f, _t, _b, s) => s, isShared: () => false };

let mesh: PeerMesh;
let done = false;
const router = new InprocRouter({ route: (m) => mesh.route(m) });
mesh = new PeerMesh(token, 1 << 30, { route: () => { throw new Error('no fallback'); } }, (m) => router.deliverLocal(m), (why) => {
  // Peers leave once everyone has reported; only a loss during the measurement is an error.
  if (done) return;
  process.stderr.write(`lost: ${why}\n`);
  process.exit(1);
});
const ep = new Endpoint(rank, n, router, free);
router.attach(ep);
const port = await mesh.listen('127.0.0.1');
process.send!({ port });
process.on('message', async (msg: { peers?: PeerEntry[]; exit?: boolean }) => {
  if (msg.exit) {
    mesh.close();
    process.exit(0);
  }
  mesh.connect(msg.peers!, rank);
  const data = new Float32Array(len).fill(1);
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    await ringAllReduce(ep, data);
    if (i > 0) times.push((performance.now() - t0) / 1000);
  }
  done = true;
  process.send!({ times });
});
