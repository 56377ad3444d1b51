import type { WebSocket } from 'ws';

function helloTimeoutFromEnv(): number {
  const v = Number(process.env['DTEMU_HELLO_TIMEOUT_MS']);
  return Number.isFinite(v) && v >= 100 && v <= 600_000 ? v : 5000;
}

/**
 * Limits for sockets that have not yet presented the run's token (coordinator hub and peer
 * ports): they may send one small hello within a few seconds, and only so many may wait at once.
 * Admitted processes get the run's full `maxMessageBytes` back.
 */
export const UNADMITTED_LIMITS = {
  /** Largest frame a stranger may send (a hello is ~200 bytes). */
  maxFrameBytes: 16 * 1024,
  /**
   * Wall ms to present the hello before the socket is closed (5 s; DTEMU_HELLO_TIMEOUT_MS
   * overrides it for this process and the workers it spawns, e.g. in tests).
   */
  get helloTimeoutMs(): number {
    return helloTimeoutFromEnv();
  },
  /** Unadmitted sockets held at once; more are dropped on arrival. */
  maxPending: 64,
};

interface ReceiverLike {
  _maxPayload?: number;
}

/**
 * Lower the frame-size limit of one accepted socket until it is admitted; returns the function
 * that restores the server's limit. ws has no public per-socket limit, so this sets its
 * receiver's `_maxPayload` (checked against each frame's header before any payload is
 * buffered): a stranger's 256 MB frame is refused after 10 bytes, not after 256 MB. If a future
 * ws renames the field this degrades to the server-wide limit, never to a crash.
 */
export function limitUnadmitted(ws: WebSocket): () => void {
  const rx = (ws as unknown as { _receiver?: ReceiverLike })._receiver;
  if (!rx || typeof rx._maxPayload !== 'number') return () => {};
  const full = rx._maxPayload;
  rx._maxPayload = full > 0 ? Math.min(full, UNADMITTED_LIMITS.maxFrameBytes) : UNADMITTED_LIMITS.maxFrameBytes;
  return () => {
    rx._maxPayload = full;
  };
}
