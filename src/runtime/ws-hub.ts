import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { InprocRouter } from '../../comm/transport/inproc-router.ts';
import type { Message, MessageSink } from '../../comm/message.ts';
import { decodeMessage, encodeMessage, peekDestination } from '../../comm/transport/wire-codec.ts';
import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig } from '../config/types.ts';
import { RunError } from '../util/user-error.ts';
import { REJOIN_MODEL, REJOIN_OP } from '../../comm/collectives/push-pull.ts';
import { CLOSE_BAD_TOKEN, CLOSE_NOT_NEEDED, type ToCoordinator, type ToWorker } from './protocol.ts';
import { parseToCoordinator } from './protocol-parse.ts';
import { limitUnadmitted, UNADMITTED_LIMITS } from '../../comm/transport/socket-guard.ts';

interface Conn {
  ws: WebSocket;
  index: number;
  ranks: number[];
  pid: number;
  host: string;
  ready: boolean;
  done: boolean;
  backend: string;
  /** The device its backend reports (manifest). */
  device?: string;
  peerUrl: string;
  lastSeen: number;
  /** Wall time it was admitted: start-up (data loading) is timed from here until it is ready. */
  joinedAt: number;
  /** The process announced a crash scheduled by the fault timeline (rank, step, its traffic). */
  crashAnnounced: CrashAnnouncement | null;
  /** It crashed on purpose and a replacement process is expected (fault timeline rejoin). */
  awaitingReplacement: boolean;
  /** It replaces a crashed process: started alone once ready. */
  replacement: boolean;
}

type CrashAnnouncement = Omit<Extract<ToCoordinator, { t: 'crash' }>, 't'>;

export interface HubOptions {
  host: string;
  port: number;
  token: string;
  maxPayload: number;
  lc: LoadedConfig;
  /** Rank sets, one per worker process, handed out in order of joining. */
  rankSets: number[][];
  heartbeatTimeoutSec: number;
  /**
   * Wall seconds an admitted process may take from its hello to `ready` (backend, data loading).
   * Liveness (heartbeatTimeoutSec) counts only after `ready`: start-up under load is slow.
   */
  startupTimeoutSec?: number;
  /** Spawned workers: every process must have said hello within this many seconds of listen(). */
  joinTimeoutSec?: number | null;
  /** Wall ms an unadmitted socket has to present its hello (default 5000). */
  helloTimeoutMs?: number;
  /** Endpoints hosted by the coordinator itself (the parameter server). */
  local: InprocRouter;
  onReport(r: WorkerReport): void;
  onFailure(err: RunError): void;
  /** A process hosting these ranks may die on purpose (fault timeline, tolerated): not a failure. */
  expectedCrash?(announced: { rank: number; step: number }): boolean;
  /** True if a crashed worker gets a replacement process (fault timeline rejoin). */
  rejoins?(rank: number): boolean;
  /** Describe a process for messages (the coordinator adds the pid and exit cause it knows). */
  describe?(conn: { index: number; pid: number; ranks: number[] }): string;
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The coordinator's WebSocket server: admits worker processes that present the run's token,
 * assigns them their logical workers, relays data frames between processes untouched (it only
 * reads the destination), and watches liveness.
 */
export class WsHub implements MessageSink {
  private wss: WebSocketServer | null = null;
  private readonly conns: Conn[] = [];
  private readonly byRank = new Map<number, Conn>();
  /** Crashed processes that a replacement took over from (kept for the manifest). */
  private readonly retired: Conn[] = [];
  /** Frames for the ranks of a crashed process, held until its replacement is ready. */
  private readonly held = new Map<number, Buffer[]>();
  private heartbeat: NodeJS.Timeout | null = null;
  private failed = false;
  private stopping = false;
  private allReady: (() => void) | null = null;
  private allDone: (() => void) | null = null;
  readonly refused: string[] = [];
  /** Sockets that have not presented the run's token yet (capped: UNADMITTED_LIMITS.maxPending). */
  private readonly pending = new Set<WebSocket>();
  private listenedAt = 0;

  constructor(private readonly o: HubOptions) {}

  async listen(): Promise<number> {
    this.wss = new WebSocketServer({ host: this.o.host, port: this.o.port, maxPayload: this.o.maxPayload, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.wss!.once('listening', resolve);
      this.wss!.once('error', reject);
    });
    this.listenedAt = Date.now();
    this.wss.on('connection', (ws) => this.accept(ws));
    this.wss.on('error', (e) => this.fail(`coordinator WebSocket server failed: ${e.message}`));
    this.heartbeat = setInterval(() => this.checkLiveness(), 500);
    return (this.wss.address() as AddressInfo).port;
  }

  /** The address the server is bound to (127.0.0.1 unless configured otherwise). */
  get boundAddress(): string {
    return (this.wss?.address() as AddressInfo | undefined)?.address ?? '';
  }

  /** The peer URL each ready worker process listens on. */
  get peerUrls(): string[] {
    return this.conns.filter((c) => c.ready).map((c) => c.peerUrl);
  }

  /** The crash a process announced before dying, if any. */
  announcedCrash(pid: number): { rank: number; step: number } | null {
    return this.conns.find((c) => c.pid === pid)?.crashAnnounced ?? null;
  }

  get processes(): { index: number; pid: number; host: string; ranks: number[]; backend: string; device?: string; crashedAtStep?: number }[] {
    return [...this.retired, ...this.conns].map((c) => ({
      index: c.index,
      pid: c.pid,
      host: c.host,
      ranks: c.ranks,
      backend: c.backend,
      ...(c.device !== undefined ? { device: c.device } : {}),
      ...(c.crashAnnounced ? { crashedAtStep: c.crashAnnounced.step } : {}),
    }));
  }

  private accept(ws: WebSocket): void {
    let conn: Conn | null = null;
    // Until it presents the token a socket is a stranger: small frames, a few seconds, a cap.
    if (this.pending.size >= UNADMITTED_LIMITS.maxPending || this.stopping) {
      ws.terminate();
      return;
    }
    this.pending.add(ws);
    const restore = limitUnadmitted(ws);
    const helloTimer = setTimeout(() => {
      if (!conn) ws.terminate();
    }, this.o.helloTimeoutMs ?? UNADMITTED_LIMITS.helloTimeoutMs);
    const admitted = () => {
      clearTimeout(helloTimer);
      this.pending.delete(ws);
      restore();
    };
    const refuse = (code: number, reason: string) => {
      clearTimeout(helloTimer);
      this.pending.delete(ws);
      ws.close(code, reason);
      // A peer that never answers the close handshake is cut off (ws would wait 30 s).
      setTimeout(() => ws.terminate(), 1000).unref();
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (conn) conn.lastSeen = Date.now();
      if (isBinary) {
        if (!conn) return refuse(CLOSE_BAD_TOKEN, 'hello first');
        try {
          this.forward(data as Buffer);
        } catch (e) {
          this.fail(`${this.describe(conn)} sent a malformed data frame (${(e as Error).message})`);
        }
        return;
      }
      const parsed = parseToCoordinator(String(data));
      if (!parsed.ok) {
        // A stranger's garbage closes its socket only; an admitted process's is its fault.
        if (!conn) return refuse(1008, parsed.reason.slice(0, 100));
        return this.fail(`${this.describe(conn)} sent a bad message: ${parsed.reason}`);
      }
      const msg = parsed.msg;
      if (!conn) {
        if (msg.t !== 'hello' || !tokensEqual(msg.token, this.o.token)) {
          const reason = 'wrong or missing run token';
          if (this.refused.length < 100) this.refused.push(reason);
          this.sendJson(ws, { t: 'refused', reason });
          refuse(CLOSE_BAD_TOKEN, reason);
          return;
        }
        if (msg.replaces !== undefined) {
          conn = this.admitReplacement(ws, msg);
          if (conn) admitted();
          else refuse(CLOSE_NOT_NEEDED, 'not needed');
          return;
        }
        if (this.conns.length >= this.o.rankSets.length || this.stopping) {
          this.sendJson(ws, { t: 'refused', reason: 'the run has all the workers it needs' });
          refuse(CLOSE_NOT_NEEDED, 'not needed');
          return;
        }
        const index = this.indexFor(msg.process);
        if (index === null) {
          const reason = `process index ${String(msg.process)} is not one of 0..${this.o.rankSets.length - 1} or is taken`;
          if (this.refused.length < 100) this.refused.push(reason);
          this.sendJson(ws, { t: 'refused', reason });
          refuse(CLOSE_NOT_NEEDED, 'bad process index');
          return;
        }
        admitted();
        conn = this.newConn(ws, index, msg.pid, msg.host);
        this.conns.push(conn);
        for (const r of conn.ranks) this.byRank.set(r, conn);
        this.sendJson(ws, { t: 'init', ranks: conn.ranks, lc: this.o.lc, process: index });
        return;
      }
      try {
        this.control(conn, msg);
      } catch (e) {
        this.fail(`${this.describe(conn)} sent a message the coordinator could not use (${(e as Error).message})`);
      }
    });
    ws.on('pong', () => {
      if (conn) conn.lastSeen = Date.now();
    });
    ws.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      this.pending.delete(ws);
      if (!conn || this.stopping || conn.done) return;
      const c = conn;
      if (c.crashAnnounced && this.o.expectedCrash?.(c.crashAnnounced)) {
        if (c.awaitingReplacement || this.retired.includes(c)) return;
        c.done = true;
        if (this.allDone && this.conns.length === this.o.rankSets.length && this.conns.every((x) => x.done)) this.allDone();
        return;
      }
      // Give the process-exit handler a moment to report a more precise cause (signal, code).
      setTimeout(() => this.fail(`${this.describe(c)} disconnected (${code}${reason.length ? ` ${reason}` : ''})`), 300);
    });
    ws.on('error', () => {
      /* the close handler reports */
    });
  }

  /**
   * The block of logical workers a joining process hosts: the one it asks for (srun task i takes
   * block i), else the lowest free one (join order). Null if the asked-for block is invalid or taken.
   */
  private indexFor(requested: number | undefined): number | null {
    const taken = new Set(this.conns.map((c) => c.index));
    if (requested === undefined) {
      for (let i = 0; i < this.o.rankSets.length; i++) if (!taken.has(i)) return i;
      return null;
    }
    return Number.isInteger(requested) && requested >= 0 && requested < this.o.rankSets.length && !taken.has(requested) ? requested : null;
  }

  private newConn(ws: WebSocket, index: number, pid: number, host: string): Conn {
    return {
      ws,
      index,
      ranks: this.o.rankSets[index]!,
      pid,
      host,
      ready: false,
      done: false,
      backend: '',
      peerUrl: '',
      crashAnnounced: null,
      awaitingReplacement: false,
      replacement: false,
      lastSeen: Date.now(),
      joinedAt: Date.now(),
    };
  }

  /**
   * A process started in place of one that crashed on purpose: it takes over the same ranks and
   * goes on from its predecessor's announced traffic counters; it waits for the master's model.
   */
  private admitReplacement(ws: WebSocket, msg: Extract<ToCoordinator, { t: 'hello' }>): Conn | null {
    const old = this.conns.find((c) => c.index === msg.replaces);
    if (!old || !old.awaitingReplacement || !old.crashAnnounced || this.stopping) {
      this.sendJson(ws, { t: 'refused', reason: `process ${msg.replaces} is not waiting for a replacement` });
      return null;
    }
    const conn = this.newConn(ws, old.index, msg.pid, msg.host);
    conn.replacement = true;
    old.awaitingReplacement = false;
    this.retired.push(old);
    this.conns[this.conns.indexOf(old)] = conn;
    for (const r of conn.ranks) this.byRank.set(r, conn);
    const a = old.crashAnnounced;
    this.sendJson(ws, { t: 'init', ranks: conn.ranks, lc: this.o.lc, process: conn.index, resume: { bytesSent: a.bytesSent, messagesSent: a.messagesSent, bytesTo: a.bytesTo, ...(a.bytesFrom ? { bytesFrom: a.bytesFrom } : {}) } });
    return conn;
  }

  private hold(rank: number, frame: Buffer | Uint8Array): void {
    let list = this.held.get(rank);
    if (!list) this.held.set(rank, (list = []));
    list.push(Buffer.from(frame));
  }

  /** Deliver to a rank's process, or hold the frame while that process is being replaced. */
  private sendFrame(target: Conn, rank: number, frame: Buffer | Uint8Array): void {
    if (target.awaitingReplacement || (target.replacement && !target.ready)) return this.hold(rank, frame);
    // A process that crashed on purpose (and is not replaced) receives nothing any more.
    if (target.ws.readyState !== target.ws.OPEN) return;
    target.ws.send(frame, { binary: true });
  }

  private describe(c: { index: number; pid: number; ranks: number[] }): string {
    return this.o.describe ? this.o.describe(c) : `worker process ${c.index} (pid ${c.pid}, worker${c.ranks.length > 1 ? 's' : ''} ${c.ranks.join(',')})`;
  }

  private control(conn: Conn, msg: ToCoordinator): void {
    switch (msg.t) {
      case 'hello':
        this.fail(`${this.describe(conn)} sent a second hello`);
        return;
      case 'ready':
        if (conn.ready) return this.fail(`${this.describe(conn)} said ready twice`);
        conn.ready = true;
        // Liveness starts now (start-up had its own, longer timeout).
        conn.lastSeen = Date.now();
        conn.backend = msg.backend;
        if (typeof msg.device === 'string') conn.device = msg.device;
        conn.peerUrl = msg.peerUrl;
        if (conn.replacement) {
          // Only the master talks to it (a star): no peer links; then what was held for it.
          this.sendJson(conn.ws, { t: 'start', startedAt: this.startedAt, peers: [] });
          for (const r of conn.ranks) {
            for (const frame of this.held.get(r) ?? []) conn.ws.send(frame, { binary: true });
            this.held.delete(r);
          }
          return;
        }
        if (this.allReady && this.conns.length === this.o.rankSets.length && this.conns.every((c) => c.ready)) this.allReady();
        return;
      case 'report':
        if (!conn.ready || !conn.ranks.includes(msg.r.rank)) {
          this.fail(`${this.describe(conn)} sent a report for worker ${msg.r.rank}, which it does not host`);
          return;
        }
        this.o.onReport(msg.r);
        return;
      case 'done':
        conn.done = true;
        if (this.allDone && this.conns.length === this.o.rankSets.length && this.conns.every((c) => c.done)) this.allDone();
        return;
      case 'crash':
        conn.crashAnnounced = { rank: msg.rank, step: msg.step, bytesSent: msg.bytesSent, messagesSent: msg.messagesSent, bytesTo: msg.bytesTo, ...(msg.bytesFrom ? { bytesFrom: msg.bytesFrom } : {}) };
        // From now on its frames wait for the replacement, if one will come.
        if (this.o.expectedCrash?.(conn.crashAnnounced) && conn.ranks.some((r) => this.o.rejoins?.(r) === true)) conn.awaitingReplacement = true;
        return;
      case 'error':
        this.fail(`${this.describe(conn)} failed: ${msg.message}`);
        return;
      default:
        return;
    }
  }

  private forward(frame: Buffer): void {
    const u8 = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
    const dest = peekDestination(u8);
    if (this.o.local.hasLocal(dest)) {
      this.o.local.deliverLocal(decodeMessage(u8));
      return;
    }
    const target = this.byRank.get(dest);
    if (!target) return this.fail(`a message was addressed to worker ${dest}, which no process hosts`);
    this.sendFrame(target, dest, frame);
  }

  /** Messages sent by endpoints hosted in the coordinator (the parameter server). */
  route(msg: Message): void {
    const target = this.byRank.get(msg.to);
    if (!target) throw new Error(`no process hosts worker ${msg.to}`);
    // A replacement's model may be sent before its predecessor has even announced its crash.
    if (msg.op === REJOIN_OP && msg.step === REJOIN_MODEL && !(target.replacement && target.ready)) return this.hold(msg.to, encodeMessage(msg));
    this.sendFrame(target, msg.to, encodeMessage(msg));
  }

  private checkLiveness(): void {
    const now = Date.now();
    const j = this.o.joinTimeoutSec;
    if (j && !this.allJoined() && now - this.listenedAt > j * 1000) {
      this.fail(`only ${this.conns.length} of ${this.o.rankSets.length} worker processes joined within ${j} s`);
      return;
    }
    for (const c of this.conns) {
      if (c.done || c.awaitingReplacement) continue;
      if (!c.ready) {
        // Start-up (backend, data loading) is timed on its own: a loaded machine is slow here.
        const limit = this.o.startupTimeoutSec ?? 300;
        if (now - c.joinedAt > limit * 1000) {
          this.fail(`${this.describe(c)} did not finish starting (backend, data) within ${limit} s`);
          return;
        }
      } else if (now - c.lastSeen > this.o.heartbeatTimeoutSec * 1000) {
        this.fail(`${this.describe(c)} stopped responding for ${this.o.heartbeatTimeoutSec} s`);
        return;
      }
      if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
    }
  }

  private allJoined(): boolean {
    return this.conns.length === this.o.rankSets.length;
  }

  fail(message: string): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    this.o.onFailure(new RunError(message));
  }

  /** Resolves when every process has joined and loaded its data. */
  whenReady(): Promise<void> {
    return new Promise((resolve) => {
      this.allReady = resolve;
      if (this.conns.length === this.o.rankSets.length && this.conns.every((c) => c.ready)) resolve();
    });
  }

  private startedAt = 0;

  start(startedAt: number): Promise<void> {
    this.startedAt = startedAt;
    const done = new Promise<void>((resolve) => (this.allDone = resolve));
    const peers = this.conns.map((c) => ({ process: c.index, ranks: c.ranks, url: c.peerUrl }));
    for (const c of this.conns) this.sendJson(c.ws, { t: 'start', startedAt, peers });
    return done;
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.conns) {
      if (c.ws.readyState === c.ws.OPEN) {
        this.sendJson(c.ws, { t: 'stop' });
        c.ws.close(1000, 'run over');
      }
    }
    // Also drop connections that never said hello (refused or half-open), or close() waits.
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  private sendJson(ws: WebSocket, msg: ToWorker): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }
}
