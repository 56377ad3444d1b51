import type { LinkTiming } from '../../comm/message.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import type { FaultSchedule } from './faults.ts';
import { bandwidthAt, latencyAt } from '../../topologies/trace.ts';

/**
 * Virtual-time cost of messages. A hop of m bytes on a link with bandwidth B (bits/s) and
 * latency a starts when both the message and the link are ready, occupies the link for 8m/B and
 * arrives a later: arrival = max(send, linkFree) + 8m/B + a. Multi-hop routes store and forward.
 *
 * Occupancy of an unshared link is tracked per sender, so it never depends on which process
 * holds which worker; shared links are only timed by their receiver, in a deterministic order.
 */
/**
 * Radix of the numeric keys for (from, to) routes and (link, sender) occupancy. It must exceed
 * any node index (workers can be raised past 4,096 with limits.maxWorkers, where the old 4,096
 * made distinct pairs collide); 2^21 nodes times any link count stays below 2^53.
 */
const PAIR_BASE = 1 << 21;

export class NetworkModel implements LinkTiming {
  /** Link occupancy: shared links by link, unshared ones by (link, original sender). */
  private readonly busyUntil = new Map<number, number>();
  private readonly linkIndex: Map<Link, number>;
  /** Routes are pure functions of (from, to): computed once per pair. */
  private readonly routes = new Map<number, Link[]>();

  constructor(
    private readonly topology: Topology,
    private readonly faults: FaultSchedule | null = null,
  ) {
    this.linkIndex = new Map(topology.links.map((l, i) => [l, i]));
  }

  private route(from: number, to: number): Link[] {
    const k = from * PAIR_BASE + to;
    let r = this.routes.get(k);
    if (!r) {
      r = this.topology.route(from, to);
      this.routes.set(k, r);
    }
    return r;
  }

  private key(link: Link, from: number): number {
    let i = this.linkIndex.get(link);
    if (i === undefined) {
      // A link created on demand by a route (never in `links`): index it now.
      i = this.linkIndex.size;
      this.linkIndex.set(link, i);
    }
    return link.shared ? -1 - i : i * PAIR_BASE + from;
  }

  /**
   * Only a message whose destination is the far end of a shared link (the parameter server's
   * ingress) is timed by its receiver. A worker-to-worker message through the star's server is
   * timed by its sender; contention with other senders on the shared ingress is not modelled
   * for such relayed traffic (no collective here uses it).
   */
  isShared(from: number, to: number): boolean {
    const route = this.route(from, to);
    return route.length === 1 && route[0]!.shared;
  }

  estimate(from: number, to: number, bytes: number, sendTime: number): number {
    return this.time(from, to, bytes, sendTime, false);
  }

  transmit(from: number, to: number, bytes: number, sendTime: number): number {
    return this.time(from, to, bytes, sendTime, true);
  }

  private time(from: number, to: number, bytes: number, sendTime: number, commit: boolean): number {
    // Across a network partition the transfer waits until it heals.
    let t = this.faults ? this.faults.partitionHeal(from, to, sendTime) : sendTime;
    if (this.topology.forwarding === 'cut') return this.cutThrough(from, to, bytes, t, commit);
    for (const link of this.route(from, to)) {
      // Unshared links: occupancy per original sender (exact for neighbour traffic, which is all
      // the ring collectives send; multi-hop relays do not contend with the relay's own sends).
      const key = this.key(link, from);
      const start = Math.max(t, this.busyUntil.get(key) ?? 0);
      // A link fault in force when the transfer starts sets its bandwidth / latency.
      const f = this.faults?.link(link.id, start);
      const serialization = (bytes * 8) / (f?.bandwidth ?? bandwidthAt(link, start));
      if (commit) this.busyUntil.set(key, start + serialization);
      t = start + serialization + (f?.latency ?? latencyAt(link, start));
    }
    return t;
  }

  /**
   * Cut-through route (switches, trees, tori, graphs): the message starts when every link of its
   * route is free (for this sender), streams at the slowest link's rate and arrives after the
   * route's summed latency: start + 8m/min(B) + sum(a). One hop is exactly a + 8m/B.
   */
  private cutThrough(from: number, to: number, bytes: number, t: number, commit: boolean): number {
    const route = this.route(from, to);
    let start = t;
    for (const link of route) start = Math.max(start, this.busyUntil.get(this.key(link, from)) ?? 0);
    let bandwidth = Infinity;
    let latency = 0;
    for (const link of route) {
      const f = this.faults?.link(link.id, start);
      bandwidth = Math.min(bandwidth, f?.bandwidth ?? bandwidthAt(link, start));
      latency += f?.latency ?? latencyAt(link, start);
    }
    if (route.length === 0) return start;
    const serialization = (bytes * 8) / bandwidth;
    if (commit) for (const link of route) this.busyUntil.set(this.key(link, from), start + serialization);
    return start + serialization + latency;
  }
}
