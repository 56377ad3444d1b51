/**
 * A worker's exchange with its gossip neighbours: the same payload to each neighbour over its own
 * route (timed by the network model as any message: a + 8m/B per link, a sender's messages queue
 * on links they share, e.g. a hierarchical worker's uplink), then one payload from each. The
 * clock ends at the last arrival. Bits are the payload bytes really sent, once per neighbour.
 */
import type { Endpoint } from '../../comm/endpoint.ts';

export const GOSSIP_NAMESPACE = 'gossip';

export class NeighbourExchange {
  /** Received payloads, in the order of `neighbours` (reused per call). */
  private readonly received: Uint8Array[];

  constructor(
    private readonly ep: Endpoint,
    /** The worker's neighbours, ascending, without itself. */
    readonly neighbours: readonly number[],
  ) {
    this.received = new Array<Uint8Array>(neighbours.length);
  }

  /** Send `payload` to every neighbour (ascending) and receive theirs. Do not modify payload afterwards. */
  async exchange(payload: Uint8Array): Promise<readonly Uint8Array[]> {
    return this.receive(this.send(payload));
  }

  /** The sending half: at the current virtual time; returns the exchange's op for `receive`. */
  send(payload: Uint8Array): number {
    const op = this.ep.nextOp(GOSSIP_NAMESPACE);
    for (const j of this.neighbours) this.ep.send(j, op, 0, payload);
    return op;
  }

  /** The receiving half: the clock advances to the last arrival (if later than now). */
  async receive(op: number): Promise<readonly Uint8Array[]> {
    for (let c = 0; c < this.neighbours.length; c++) this.received[c] = (await this.ep.recv(this.neighbours[c]!, op, 0)).payload;
    return this.received;
  }
}
