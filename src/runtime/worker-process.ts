import { hostname } from 'node:os';
import WebSocket from 'ws';
import { InprocRouter } from '../../comm/transport/inproc-router.ts';
import type { Message, MessageSink } from '../../comm/message.ts';
import { decodeMessage, encodeMessage } from '../../comm/transport/wire-codec.ts';
import { backendDevice, selectBackend } from '../train/backend.ts';
import { RunError, UserError } from '../util/user-error.ts';
import type { ToCoordinator, ToWorker } from './protocol.ts';
import { parseToWorker } from './protocol-parse.ts';
import { PeerMesh, zeroMask } from '../../comm/transport/peer-mesh.ts';
import { WorkerHost } from './worker-host.ts';
import { slurmProcessIndex } from './launchers/slurm.ts';

/**
 * Entry of a worker OS process (`dtemu worker --join URL --token T`): joins the coordinator,
 * receives its logical workers and the resolved config, trains, and exits when told to stop.
 * Resolves with the process exit code.
 */
/** `onMessage`: why the process stops, when it fails (the CLI writes it to the terminal). */
export function runWorkerProcess(url: string, token: string, onMessage: (message: string) => void = () => {}, maxPayload = 512 * 1024 * 1024): Promise<number> {
  return new Promise((resolveExit) => {
    const ws = new WebSocket(url, { maxPayload, perMessageDeflate: false, generateMask: zeroMask });
    let host: WorkerHost | null = null;
    let router: InprocRouter | null = null;
    let mesh: PeerMesh | null = null;
    let myIndex = -1;
    // When a peer process vanishes the coordinator sees it too (exit, heartbeat) and reports
    // the precise cause; this process only stops its workers and waits to be told to stop.
    let peerLost = false;
    let finished = false;
    let startedAt = Date.now();
    const send = (m: ToCoordinator) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const finish = (code: number, message?: string) => {
      if (finished) return;
      finished = true;
      if (message) onMessage(message);
      router?.failAll(new RunError('worker shutting down'));
      mesh?.close();
      try {
        ws.close();
      } catch {
        /* already closed */
      }
      resolveExit(code);
    };
    const remote: MessageSink = {
      route: (msg: Message) => ws.send(encodeMessage(msg), { binary: true }),
    };

    // Set by the coordinator when it starts this process in place of a crashed one.
    const replaces = process.env['DTEMU_REPLACES'];
    // An srun task takes the block of logical workers of its SLURM_PROCID.
    const requested = slurmProcessIndex();
    ws.on('open', () =>
      send({ t: 'hello', token, pid: process.pid, host: hostname(), ...(replaces ? { replaces: Number(replaces) } : {}), ...(requested !== undefined ? { process: requested } : {}) }),
    );
    ws.on('error', (e) => finish(1, `cannot reach the coordinator at ${url}: ${e.message}`));
    ws.on('close', () => finish(finished ? 0 : 1, 'the coordinator closed the connection'));
    ws.on('message', (data, isBinary) => {
      let msg: ToWorker;
      try {
        if (isBinary) {
          const buf = data as Buffer;
          router?.deliverLocal(decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
          return;
        }
        const parsed = parseToWorker(String(data));
        if (!parsed.ok) throw new Error(parsed.reason);
        msg = parsed.msg;
      } catch (e) {
        finish(1, `malformed message from the coordinator (${(e as Error).message})`);
        return;
      }
      switch (msg.t) {
        case 'refused':
          finish(2, `refused by the coordinator: ${msg.reason}`);
          return;
        case 'init': {
          myIndex = msg.process;
          mesh = new PeerMesh(
            token,
            msg.lc.config.transport.maxMessageBytes,
            remote,
            (m) => router?.deliverLocal(m),
            () => {
              peerLost = true;
              router?.failAll(new RunError('a peer process disconnected'));
            },
            // A peer that broke the protocol: the coordinator fails the run naming it.
            (why) => {
              send({ t: 'error', message: why });
              peerLost = true;
              router?.failAll(new RunError(why));
            },
          );
          router = new InprocRouter(mesh);
          host = new WorkerHost(
            msg.lc,
            msg.ranks,
            router,
            (r) => send({ t: 'report', r }),
            () => (Date.now() - startedAt) / 1000,
            (rank, step, stats) =>
              new Promise<void>((resolve) => {
                if (ws.readyState !== ws.OPEN) return resolve();
                const bytesTo = [...stats.bytesTo.entries()].sort((x, y) => x[0] - y[0]);
                const bytesFrom = [...stats.bytesFrom.entries()].sort((x, y) => x[0] - y[0]);
                ws.send(JSON.stringify({ t: 'crash', rank, step, bytesSent: stats.bytesSent, messagesSent: stats.messagesSent, bytesTo, bytesFrom } satisfies ToCoordinator), () => resolve());
              }),
            msg.resume ?? null,
            true,
          );
          const h = host;
          void (async () => {
            try {
              const backend = await selectBackend(msg.lc.config.backend);
              await h.prepare();
              // Listen for peers on the interface this process reaches the coordinator from.
              const sock = (ws as unknown as { _socket: { localAddress?: string } })._socket;
              const local = (sock.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
              const port = await mesh!.listen(local);
              const hostPart = local.includes(':') ? `[${local}]` : local;
              send({ t: 'ready', backend, device: backendDevice(), peerUrl: `ws://${hostPart}:${port}` });
            } catch (e) {
              send({ t: 'error', message: (e as Error).message });
              finish(e instanceof UserError ? 2 : 1);
            }
          })();
          return;
        }
        case 'start': {
          startedAt = msg.startedAt;
          const h = host;
          if (!h) return;
          mesh!.connect(msg.peers, myIndex);
          h.run().then(
            () => send({ t: 'done' }),
            (e: Error) => {
              if (!finished && !peerLost) send({ t: 'error', message: e.message });
            },
          );
          return;
        }
        case 'stop':
          finished = true;
          router?.failAll(new RunError('run stopped'));
          mesh?.close();
          ws.close();
          resolveExit(0);
          return;
      }
    });
  });
}
