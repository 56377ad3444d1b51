import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { estimateParams } from '../src/config/limits.ts';
import { loadConfigText } from '../src/config/load.ts';
import { parsePeerHello, parseToCoordinator, parseToWorker } from '../src/runtime/protocol-parse.ts';
import { UNADMITTED_LIMITS } from '../comm/transport/socket-guard.ts';
import { WsHub } from '../src/runtime/ws-hub.ts';
import { PeerMesh } from '../comm/transport/peer-mesh.ts';
import { buildModel } from '../src/train/models.ts';

const YAML = 'data: { dataset: blobs }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\nworkers: 2\n';

describe('control message parser', () => {
  it('refuses everything that is not a well-formed message, accepts the protocol', () => {
    for (const text of ['null', '[]', '42', '"x"', 'true', '{', '{}', '{"t":5}', '{"t":"hello"}', '{"t":"hello","token":"a","pid":-1,"host":"h"}', '{"t":"report","r":null}',
      '{"t":"report","r":{"type":"step","rank":0,"step":1}}', '{"t":"crash","rank":0}', '{"t":"nope"}', 'x'.repeat(5 * 1024 * 1024)]) {
      expect(parseToCoordinator(text).ok, text.slice(0, 40)).toBe(false);
    }
    expect(parseToCoordinator('{"t":"hello","token":"abc","pid":12,"host":"h"}')).toEqual({ ok: true, msg: { t: 'hello', token: 'abc', pid: 12, host: 'h' } });
    const step = { type: 'step', rank: 1, step: 3, loss: null, simTime: 1, compute: 0.5, delay: 0, comm: 0.5, bytesSent: 10, wallTime: 1, gradWallSec: 0, gradCpuSec: 0 };
    expect(parseToCoordinator(JSON.stringify({ t: 'report', r: step })).ok).toBe(true);
    expect(parseToCoordinator(JSON.stringify({ t: 'report', r: { ...step, bytesSent: -1 } })).ok).toBe(false);
    // Transfers of the step (trace.json's link tracks): [to, bytes, send, arrival | null].
    expect(parseToCoordinator(JSON.stringify({ t: 'report', r: { ...step, transfers: [[1, 400, 0.5, 0.51], [2, 8, 0.6, null]] } })).ok).toBe(true);
    for (const transfers of [[[1, 400, 0.5]], [[-1, 400, 0.5, 0.6]], [[1, 1.5, 0.5, 0.6]], [[1, 400, '0.5', 0.6]], [1, 2], 'x']) {
      expect(parseToCoordinator(JSON.stringify({ t: 'report', r: { ...step, transfers } })).ok, JSON.stringify(transfers)).toBe(false);
    }
    expect(parseToWorker('null').ok).toBe(false);
    expect(parseToWorker('{"t":"start","startedAt":1,"peers":[{"process":0,"ranks":[0],"url":"ws://x"}]}').ok).toBe(true);
    expect(parseToWorker('{"t":"start","startedAt":1,"peers":[null]}').ok).toBe(false);
    expect(parsePeerHello('{"t":"peer-hello","token":"t"}').ok).toBe(true);
    expect(parsePeerHello('{"t":"peer-hello","token":null}').ok).toBe(false);
  });
});

describe('hub guard', () => {
  it('closes a silent stranger after the hello timeout, caps pending strangers, and fails the run naming an admitted worker that sends garbage', async () => {
    const lc = loadConfigText('t.yaml', YAML);
    const failures: string[] = [];
    const hub = new WsHub({ host: '127.0.0.1', port: 0, token: 'tok', maxPayload: 1 << 20, lc, rankSets: [[0], [1]], heartbeatTimeoutSec: 30, local: new InprocRouter(), onReport: () => {}, onFailure: (e) => failures.push(e.message), helloTimeoutMs: 3000 });
    const port = await hub.listen();
    const url = `ws://127.0.0.1:${port}`;
    const open = (onOpen: (ws: WebSocket) => void = () => {}) =>
      new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve) => {
        const ws = new WebSocket(url);
        let t0 = Date.now();
        ws.on('open', () => (t0 = Date.now()));
        const closed = new Promise<number>((r) => ws.on('close', () => r(Date.now() - t0)));
        ws.on('error', () => {});
        ws.on('open', () => {
          onOpen(ws);
          resolve({ ws, closed });
        });
        ws.on('unexpected-response', () => resolve({ ws, closed }));
        closed.then(() => resolve({ ws, closed }));
      });
    // More strangers than the cap: the extra ones are dropped at once, the rest at the timeout.
    const strangers = await Promise.all(Array.from({ length: UNADMITTED_LIMITS.maxPending + 6 }, () => open()));
    const times = await Promise.all(strangers.map((s) => s.closed));
    console.log(`hub guard: stranger sockets closed after ${[...times].sort((a, b) => a - b).join(' ')} ms`);
    // (A long timeout so that all of them are connected before the first one times out.)
    expect(times.filter((t) => t < 1500)).toHaveLength(6);
    expect(times.filter((t) => t >= 1500)).toHaveLength(UNADMITTED_LIMITS.maxPending);
    expect(Math.max(...times)).toBeLessThan(8000);
    expect(failures).toEqual([]);

    // A stranger's garbage closes its socket only.
    const garbage = await open((ws) => ws.send('null'));
    await garbage.closed;
    expect(failures).toEqual([]);

    // An admitted worker's garbage is that worker's fault.
    const worker = await open((ws) => ws.send(JSON.stringify({ t: 'hello', token: 'tok', pid: 4242, host: 'h' })));
    await new Promise((r) => worker.ws.once('message', r));
    worker.ws.send('[]');
    await new Promise((r) => setTimeout(r, 200));
    expect(failures).toEqual(['worker process 0 (pid 4242, worker 0) sent a bad message: control message is not an object with a type']);
    await hub.close();
  });
});

describe('peer mesh guard', () => {
  it("a stranger's garbage closes its socket only; an admitted peer's garbage is reported naming it", async () => {
    const faults: string[] = [];
    const lost: string[] = [];
    const delivered: unknown[] = [];
    const mesh = new PeerMesh('tok', 1 << 20, { route: () => {} }, (m) => delivered.push(m), (w) => lost.push(w), (w) => faults.push(w));
    const port = await mesh.listen('127.0.0.1');
    const session = (first: string | Uint8Array, then?: string | Uint8Array) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        ws.on('error', () => {});
        ws.on('close', () => resolve());
        ws.on('open', () => {
          ws.send(first);
          if (then !== undefined) setTimeout(() => ws.send(then), 50);
        });
      });
    await session('null');
    await session(new Uint8Array(7));
    await session(JSON.stringify({ t: 'peer-hello', token: 'wrong', process: 1 }));
    expect(faults).toEqual([]);
    await session(JSON.stringify({ t: 'peer-hello', token: 'tok', process: 3 }), '[]');
    await session(JSON.stringify({ t: 'peer-hello', token: 'tok', process: 2 }), new Uint8Array(7));
    expect(faults).toEqual(['worker process 3 sent an unexpected text frame to a peer', 'worker process 2 sent a malformed data frame to a peer (frame too short (7 bytes))']);
    expect(lost).toEqual([]);
    expect(delivered).toEqual([]);
    mesh.close();
  });
});

describe('memory and message-size estimates', () => {
  it('estimateParams equals the parameter count of the model buildModel builds', () => {
    const cases: [string, number[], number][] = [
      ['data: { dataset: blobs, features: 7, classes: 5 }\nmodel: { kind: mlp, hidden: [13, 9] }', [7], 5],
      ['data: { dataset: logistic, features: 11 }\nmodel: { kind: logistic }', [11], 2],
      ['data: { dataset: linear, features: 6 }\nmodel: { kind: linear }', [6], 0],
      ['data: { dataset: linear, features: 6 }\nmodel: { kind: mlp, hidden: [4] }', [6], 0],
      ['data: { dataset: fashion-mnist }\nmodel: { kind: cnn, channels: [3, 5, 2], kernel: 5 }', [28, 28, 1], 10],
      ['data: { dataset: fashion-mnist }\nmodel: { kind: mlp }', [28, 28, 1], 10],
      ['data: { dataset: moby-dick, context: 9 }\nmodel: { kind: char-lstm, embed: 6, lstmHidden: 10 }', [9], 37],
    ];
    for (const [yaml, inputShape, classes] of cases) {
      const lc = loadConfigText('e.yaml', `${yaml}\noptimizer: { kind: allreduce-sgd }\ntransport: { kind: inproc }\n`);
      const m = lc.config.model;
      const spec = m.kind === 'mlp' ? { kind: 'mlp' as const, hidden: m.hidden } : m.kind === 'cnn' ? { kind: 'cnn' as const, channels: m.channels, kernel: m.kernel } : m.kind === 'char-lstm' ? { kind: 'char-lstm' as const, embed: m.embed, hidden: m.lstmHidden } : { kind: m.kind };
      expect(estimateParams(lc.config, classes), yaml).toBe(buildModel(spec, inputShape, classes).size);
    }
  });
});
