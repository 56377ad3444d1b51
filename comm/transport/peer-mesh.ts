import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Message, MessageSink } from '../message.ts';
import { decodeMessage, encodeMessage } from './wire-codec.ts';
import { parsePeerHello } from './peer-hello.ts';
import { limitUnadmitted, UNADMITTED_LIMITS } from './socket-guard.ts';

export interface PeerEntry {
  process: number;
  ranks: number[];
  url: string;
}

/**
 * Client frames must be masked per RFC 6455, a guard against cache poisoning by browser-era
 * proxies; between our own processes it only costs a byte-wise XOR on both ends. ws skips the
 * XOR when the mask is zero, which tripled ring all-reduce throughput between processes here.
 */
export function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One outgoing connection to a peer process; frames queue until it is open and admitted. */
class PeerLink {
  private readonly ws: WebSocket;
  private queue: Uint8Array[] | null = [];

  constructor(url: string, token: string, maxPayload: number, self: number, onLost: (why: string) => void) {
    this.ws = new WebSocket(url, { maxPayload, perMessageDeflate: false, generateMask: zeroMask });
    this.ws.on('open', () => {
      this.ws.send(JSON.stringify({ t: 'peer-hello', token, process: self }));
      for (const f of this.queue ?? []) this.ws.send(f, { binary: true });
      this.queue = null;
    });
    this.ws.on('error', (e) => onLost(`peer ${url}: ${e.message}`));
    this.ws.on('close', () => onLost(`peer ${url} closed the connection`));
  }

  send(frame: Uint8Array): void {
    if (this.queue) this.queue.push(frame);
    else this.ws.send(frame, { binary: true });
  }

  close(): void {
    this.ws.removeAllListeners('close');
    this.ws.removeAllListeners('error');
    this.ws.on('error', () => {});
    this.ws.close();
  }
}

/**
 * Direct WebSocket links between worker processes, so data frames go straight from sender to
 * receiver (the coordinator only carries control messages and parameter-server traffic).
 * Each process listens for its peers and opens one outgoing link per peer process it sends to.
 * A peer must present the run's token before its frames are accepted.
 */
export class PeerMesh implements MessageSink {
  private server: WebSocketServer | null = null;
  private readonly links = new Map<number, PeerLink>();
  private readonly rankToProcess = new Map<number, PeerEntry>();
  private closing = false;
  private self = -1;

  constructor(
    private readonly token: string,
    private readonly maxPayload: number,
    /** Where frames for ranks outside the mesh go (the coordinator: parameter server). */
    private readonly fallback: MessageSink,
    private readonly deliver: (msg: Message) => void,
    private readonly onLost: (why: string) => void,
    /** An admitted peer broke the protocol (garbage after its hello): a fault of that peer, to report. */
    private readonly onFault: (why: string) => void = onLost,
  ) {}

  async listen(host: string): Promise<number> {
    this.server = new WebSocketServer({ host, port: 0, maxPayload: this.maxPayload, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('listening', resolve);
      this.server!.once('error', reject);
    });
    let pending = 0;
    this.server.on('connection', (ws) => {
      // A stranger gets one small hello within a few seconds, and only so many wait at once.
      if (pending >= UNADMITTED_LIMITS.maxPending || this.closing) {
        ws.terminate();
        return;
      }
      pending++;
      let admitted = false;
      let peer = 'a peer process';
      let counted = true;
      const settle = () => {
        if (counted) pending--;
        counted = false;
        clearTimeout(timer);
      };
      const restore = limitUnadmitted(ws);
      const timer = setTimeout(() => {
        if (!admitted) ws.terminate();
      }, UNADMITTED_LIMITS.helloTimeoutMs);
      ws.on('message', (data, isBinary) => {
        if (!admitted) {
          const hello = isBinary ? null : parsePeerHello(String(data));
          admitted = hello !== null && hello.ok && tokensEqual(hello.msg.token, this.token);
          if (admitted && hello?.ok && hello.msg.process !== undefined) peer = `worker process ${hello.msg.process}`;
          settle();
          if (!admitted) {
            ws.close(4001, 'wrong or missing run token');
            // A stranger that never answers the close handshake is cut off (ws would wait 30 s).
            setTimeout(() => ws.terminate(), 1000).unref();
          } else restore();
          return;
        }
        // Only binary data frames follow an admitted hello; anything else is a broken peer.
        if (!isBinary) {
          ws.close(1003, 'unexpected text frame');
          this.onFault(`${peer} sent an unexpected text frame to a peer`);
          return;
        }
        const buf = data as Buffer;
        let msg: Message;
        try {
          msg = decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
        } catch (e) {
          ws.close(1003, 'malformed frame');
          this.onFault(`${peer} sent a malformed data frame to a peer (${(e as Error).message})`);
          return;
        }
        try {
          this.deliver(msg);
        } catch (e) {
          ws.close(1003, 'undeliverable frame');
          this.onFault(`${peer} sent a data frame a peer cannot deliver (${(e as Error).message})`);
        }
      });
      ws.on('close', settle);
      ws.on('error', () => {});
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Learn where every rank lives; `self` is this process's index. */
  connect(table: PeerEntry[], self: number): void {
    this.self = self;
    for (const e of table) {
      if (e.process === self) continue;
      for (const r of e.ranks) this.rankToProcess.set(r, e);
    }
  }

  route(msg: Message): void {
    const peer = this.rankToProcess.get(msg.to);
    if (!peer) {
      this.fallback.route(msg);
      return;
    }
    let link = this.links.get(peer.process);
    if (!link) {
      link = new PeerLink(peer.url, this.token, this.maxPayload, this.self, (why) => {
        if (!this.closing) this.onLost(why);
      });
      this.links.set(peer.process, link);
    }
    link.send(encodeMessage(msg));
  }

  close(): void {
    this.closing = true;
    for (const l of this.links.values()) l.close();
    this.server?.close();
    for (const c of this.server?.clients ?? []) c.terminate();
  }
}
