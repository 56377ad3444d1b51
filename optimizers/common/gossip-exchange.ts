/**
 * A worker's exchange with its gossip neighbours: the same payload to each neighbour over its own
 * route, then one payload from each; the clock ends at the last arrival. Bits are the payload
 * bytes really sent, once per neighbour.
 *
 * Timing: message by message (a + 8m/B per link, a sender's messages queue on links they share,
 * e.g. a hierarchical worker's uplink), or, under max-min on a cut-through topology (torus,
 * graph, hierarchical, switch, tree), the round of every worker timed as a unit: each sends an
 * entry stamp declaring its messages (metadata), all time the same flows, and senders whose
 * routes share a link share it max-min fairly (comm/collectives/run-sized-unit.ts).
 */
import { messageUnitTimer } from '../../comm/collectives/configured.ts';
import { checkDeclared, leaveAt, receiveStamps, sendStamp, type Entry } from '../../comm/collectives/run-sized-unit.ts';
import { declaredRoundSized } from '../../comm/collectives/schedules/sized.ts';
import type { Endpoint } from '../../comm/endpoint.ts';

export const GOSSIP_NAMESPACE = 'gossip';

export class NeighbourExchange {
  /** Received payloads, in the order of `neighbours` (reused per call). */
  private readonly received: Uint8Array[];
  /** Unit-timed rounds sent and not yet received: their entry stamps. */
  private readonly entered = new Map<number, Entry>();

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
    if (messageUnitTimer(this.ep) && this.ep.size > 1) {
      this.entered.set(op, sendStamp(this.ep, op, this.neighbours.flatMap((j) => [j, payload.byteLength])));
      for (const j of this.neighbours) this.ep.sendUntimed(j, op, 0, payload);
      return op;
    }
    for (const j of this.neighbours) this.ep.send(j, op, 0, payload);
    return op;
  }

  /** The receiving half: the clock advances to the last arrival (if later than now). */
  async receive(op: number): Promise<readonly Uint8Array[]> {
    const own = this.entered.get(op);
    if (own) return this.receiveUnit(own);
    for (let c = 0; c < this.neighbours.length; c++) this.received[c] = (await this.ep.recv(this.neighbours[c]!, op, 0)).payload;
    return this.received;
  }

  private async receiveUnit(own: Entry): Promise<readonly Uint8Array[]> {
    const ep = this.ep;
    this.entered.delete(own.op);
    const { entries, values } = await receiveStamps(ep, own, 'gossip');
    const schedule = declaredRoundSized('gossip', 'gossip', values);
    const declared = new Map<number, number>();
    for (const t of schedule.rounds[0]?.transfers ?? []) if (t.to === ep.rank) declared.set(t.from, t.bytes!);
    for (const j of this.neighbours) if (!declared.has(j)) throw new Error(`gossip: worker ${ep.rank} expects a message from ${j}, which does not send it one (mixing matrix not symmetric?)`);
    const timing = messageUnitTimer(ep)!(schedule, entries, own.op);
    for (let c = 0; c < this.neighbours.length; c++) {
      const j = this.neighbours[c]!;
      this.received[c] = (await ep.recvRaw(j, own.op, 0)).payload;
      checkDeclared('gossip', j, this.received[c]!.byteLength, declared.get(j)!);
    }
    leaveAt(ep, timing);
    return this.received;
  }
}
