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
import { neighbourPattern, receiveDeclared, sendDeclared, type DeclaredPattern, type Entry } from '../../comm/collectives/run-sized-unit.ts';
import type { Endpoint } from '../../comm/endpoint.ts';

export const GOSSIP_NAMESPACE = 'gossip';

export class NeighbourExchange {
  /** Received payloads, in the order of `neighbours` (reused per call). */
  private readonly received: Uint8Array[];
  /** Unit-timed rounds sent and not yet received: their entry stamps. */
  private readonly entered = new Map<number, Entry>();
  /** What every rank may declare in a unit-timed round (built when first needed). */
  private pattern: DeclaredPattern | null = null;

  constructor(
    private readonly ep: Endpoint,
    /** The worker's neighbours, ascending, without itself. */
    readonly neighbours: readonly number[],
    /**
     * Every rank's neighbours it exchanges with (`graph[this rank]` is `neighbours`): a rank
     * declares exactly one message to each of its own, so every rank can check every rank's
     * entry stamp.
     */
    private readonly graph: readonly (readonly number[])[],
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
      this.entered.set(op, sendDeclared(this.ep, op, this.neighbours.map((to) => ({ to, payload }))));
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
    this.entered.delete(own.op);
    const got = await receiveDeclared(this.ep, own, this.neighbours, messageUnitTimer(this.ep)!, 'gossip', (this.pattern ??= patternOf(this.graph)));
    got.forEach((p, c) => (this.received[c] = p));
    return this.received;
  }
}

/** One pattern per neighbour graph (the graph a process's ranks share), so its lookups are built once. */
const patterns = new WeakMap<readonly (readonly number[])[], DeclaredPattern>();
function patternOf(graph: readonly (readonly number[])[]): DeclaredPattern {
  let p = patterns.get(graph);
  if (!p) patterns.set(graph, (p = neighbourPattern(graph)));
  return p;
}
