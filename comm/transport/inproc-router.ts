import type { Message, MessageSink } from '../message.ts';
import type { Endpoint } from '../endpoint.ts';

/**
 * Routes messages between endpoints living in this process. Unknown destinations go to a
 * fallback sink (the WebSocket link to the hub) so packed processes mix both transparently.
 */
export class InprocRouter implements MessageSink {
  private readonly local = new Map<number, Endpoint>();

  constructor(private readonly remote: MessageSink | null = null) {}

  attach(ep: Endpoint): void {
    this.local.set(ep.rank, ep);
  }

  hasLocal(rank: number): boolean {
    return this.local.has(rank);
  }

  route(msg: Message): void {
    const ep = this.local.get(msg.to);
    if (ep) {
      // Copy: the sender may reuse its buffer (ring all-reduce reduces in place).
      const payload = new Uint8Array(msg.payload.byteLength);
      payload.set(msg.payload);
      // Deliver asynchronously, like a real transport, so no collective relies on re-entrancy.
      queueMicrotask(() => ep.deliver({ ...msg, payload }));
      return;
    }
    if (!this.remote) throw new Error(`no endpoint for rank ${msg.to}`);
    this.remote.route(msg);
  }

  /** Deliver a message that came in from outside. */
  deliverLocal(msg: Message): void {
    const ep = this.local.get(msg.to);
    if (!ep) throw new Error(`message for rank ${msg.to} reached a process that does not host it`);
    ep.deliver(msg);
  }

  failAll(err: Error): void {
    for (const ep of this.local.values()) ep.fail(err);
  }
}
