import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage } from '../comm/transport/wire-codec.ts';
import { loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';

// A short hello timeout for this run's hub and the workers it spawns (they inherit the env).
vi.stubEnv('DTEMU_HELLO_TIMEOUT_MS', '1000');
const HELLO_MS = 1000;
import { tmp } from './helpers/cli.ts';

// Long enough in wall time that the attacks and the idle sockets' hello timeout happen while it
// trains, with a wide margin on an idle machine (about 4 s of training after the peers are up,
// against a 1 s hello timeout; 150 steps left only 1.3 s); small enough to cost a few seconds.
const YAML = `name: hostile
seed: 3
workers: 3
backend: wasm
data: { dataset: blobs, samples: 3000, testSamples: 300, features: 8, classes: 3, batchSize: 16 }
model: { kind: mlp, hidden: [16] }
optimizer: { kind: allreduce-sgd, lr: 0.05 }
topology: { kind: ring }
train: { steps: 500, evalEvery: 100 }
`;

interface Probe {
  what: string;
  closedAt: Promise<number>;
}

/** Open a socket, do `act` once it is open, and note when the server closes it. */
function probe(url: string, what: string, act: (ws: WebSocket) => void): Probe {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const closedAt = new Promise<number>((resolve) => {
    ws.on('close', () => resolve(Date.now()));
    ws.on('error', () => {});
  });
  ws.on('open', () => {
    try {
      act(ws);
    } catch {
      /* the server may already have closed it */
    }
  });
  return { what, closedAt };
}

/** Send raw bytes as one WebSocket frame header + payload, but cut short (a truncated frame). */
function truncatedFrame(ws: WebSocket): void {
  const sock = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  // FIN + binary, masked, 16-bit length 1000, mask key, then only 10 payload bytes: the server
  // waits for the rest, so only the hello timeout can free it.
  sock.write(Buffer.from([0x82, 0xfe, 0x03, 0xe8, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
}

const FORGED = encodeMessage({ from: 1, to: 0, op: 1, step: 1, sendTime: 0, arrival: 0, payload: new Uint8Array(64) });

const ATTACKS: [string, (ws: WebSocket) => void][] = [
  ['no hello', () => {}],
  ['wrong token', (ws) => ws.send(JSON.stringify({ t: 'hello', token: 'f'.repeat(32), pid: 1, host: 'x' }))],
  ['peer hello with a wrong token', (ws) => ws.send(JSON.stringify({ t: 'peer-hello', token: 'nope' }))],
  ['null', (ws) => ws.send('null')],
  ['[]', (ws) => ws.send('[]')],
  ['a number', (ws) => ws.send('42')],
  ['hello of the wrong shape', (ws) => ws.send(JSON.stringify({ t: 'hello', token: 12, pid: 'x' }))],
  ['a huge string', (ws) => ws.send('x'.repeat(2 * 1024 * 1024))],
  ['a truncated binary frame', truncatedFrame],
  ['an oversize binary frame', (ws) => ws.send(new Uint8Array(4 * 1024 * 1024))],
  ['a short binary frame', (ws) => ws.send(new Uint8Array(7))],
  ['a forged data frame', (ws) => ws.send(FORGED)],
];

function deterministic(dir: string): unknown[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { wallTimeSec: _w, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

describe('hostile peers', () => {
  it('malformed and unauthenticated frames to the hub and every peer port change nothing; idle sockets are closed', async () => {
    const ref = await runExperiment(loadConfigText('hostile.yaml', YAML + 'transport: { kind: inproc }\n'), { outDir: join(tmp(), 'ref') });

    const probes: Probe[] = [];
    let hubUrl = '';
    const attack = (url: string, where: string) => {
      for (const [what, act] of ATTACKS) probes.push(probe(url, `${where}: ${what}`, act));
    };
    const idle: Probe[] = [];
    let peersAttacked = 0;
    const started = Date.now();
    let lastStepAt = 0;
    let peersReadyAt = 0;
    // One process per worker (the default is one per core): three peer ports to attack.
    const run = runExperiment(loadConfigText('hostile.yaml', YAML + 'transport: { processes: 3 }\n'), {
      outDir: join(tmp(), 'attacked'),
      onLine: (l) => {
        if (l.kind === 'train') lastStepAt = Date.now();
      },
      onHubPort: (port) => {
        hubUrl = `ws://127.0.0.1:${port}`;
        // During start-up (workers are joining and loading data).
        attack(hubUrl, 'hub');
      },
      onPeersReady: (urls) => {
        peersAttacked = urls.length;
        peersReadyAt = Date.now();
        for (const u of urls) attack(u, u);
        // Then 200 idle sockets spread over the hub and the peer ports.
        const targets = [hubUrl, ...urls];
        for (let i = 0; i < 200; i++) idle.push(probe(targets[i % targets.length]!, `idle ${i}`, () => {}));
      },
    });
    const result = await run;
    const ended = Date.now();
    expect(peersAttacked).toBe(3);
    expect(probes).toHaveLength(ATTACKS.length * 4);
    // Every probe was closed by the server while the run went on (none needed the run's end).
    // Every probe and idle socket was closed by the server while training went on (the
    // hello timeout, the frame limit, the cap), not by the teardown at the end of the run.
    console.log(`hostile: start-up ${peersReadyAt - started} ms, training after the attack ${lastStepAt - peersReadyAt} ms, total ${ended - started} ms`);
    expect(lastStepAt - peersReadyAt).toBeGreaterThan(HELLO_MS + 500);
    const closes = await Promise.all([...probes, ...idle].map((p) => p.closedAt));
    for (const [i, t] of closes.entries()) expect({ who: i < probes.length ? probes[i]!.what : idle[i - probes.length]!.what, closedBeforeTrainingEnded: t < lastStepAt }).toEqual({ who: expect.any(String), closedBeforeTrainingEnded: true });

    // Same metrics as the undisturbed run of the same seed (inproc: transports agree exactly).
    expect(deterministic(result.dir)).toEqual(deterministic(ref.dir));
    expect(result.summary.finalAccuracy).toBe(ref.summary.finalAccuracy);
    const manifest = JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8')) as { status: string };
    expect(manifest.status).toBe('completed');
  }, 300_000);
});
