import type { LinkTiming } from '../../comm/message.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import type { FaultSchedule } from './faults.ts';
import { bandwidthAt, latencyAt } from '../../topologies/trace.ts';
import { simulateFlows, type Sharing } from './flow-sim.ts';
import { SharedPortQueue } from './shared-port.ts';
import { realBandwidthAt, realLatencyAt } from './link-capacity.ts';
import type { SharedIngress } from '../../comm/message.ts';

/** One transfer of a group timed together (`NetworkModel.timeTogether`). */
export interface SharedTransfer {
  from: number;
  to: number;
  bytes: number;
  sendTime: number;
}

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
 * made distinct pairs collide); 2^21 nodes times any link count stays below 2^53. The schema caps
 * limits.maxWorkers at 1,000,000, so workers + the server stay below it (test/network-model-keys.test.ts).
 */
export const PAIR_BASE = 1 << 21;

export class NetworkModel implements LinkTiming {
  /** Link occupancy: shared links by link, unshared ones by (link, original sender). */
  private readonly busyUntil = new Map<number, number>();
  private readonly linkIndex: Map<Link, number>;
  /** Routes are pure functions of (from, to): computed once per pair. */
  private readonly routes = new Map<number, Link[]>();

  constructor(
    private readonly topology: Topology,
    private readonly faults: FaultSchedule | null = null,
    /**
     * `max-min`: groups of transfers known together (a round's pushes into the star's shared
     * server port, the replies out of it) share their links max-min fairly (`timeTogether`).
     * `fifo` (the default here; runs pass network.sharing): first come first served.
     */
    private readonly sharing: Sharing = 'fifo',
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

  /**
   * Under max-min: the arrivals of transfers that are known together (a master's round: the
   * pushes of every live worker on the shared ingress, or the replies it sends at once on the
   * egress), simulated as flows sharing their links max-min fairly (src/sim/flow-sim.ts, with
   * traces, link faults and partitions), each starting at its send time or when its links are
   * free of earlier groups and messages (`busyUntil`: groups follow one another first come
   * first served). `keep(arrivals)` says which transfers the receiver takes: only those occupy
   * the links afterwards (a master cancels the pushes it ignores once it has what it needs; they
   * arrive after every taken one, so the taken ones' times do not depend on it).
   * Returns null under fifo: the caller times the transfers one by one, as it always did.
   */
  timeTogether(transfers: readonly SharedTransfer[], keep?: (arrivals: readonly number[]) => readonly boolean[]): number[] | null {
    if (this.sharing !== 'max-min') return null;
    const flows = transfers.map((t) => {
      let ready = t.sendTime;
      for (const link of this.route(t.from, t.to)) ready = Math.max(ready, this.busyUntil.get(this.key(link, t.from)) ?? 0);
      return { from: t.from, to: t.to, bytes: t.bytes, ready, deps: [] as number[] };
    });
    const times = simulateFlows(this.topology, flows, 'max-min', undefined, this.faults);
    const arrivals = Array.from(times.arrival);
    const kept = keep ? keep(arrivals) : null;
    transfers.forEach((t, i) => {
      if (kept && !kept[i]) return;
      for (const link of this.route(t.from, t.to)) {
        const k = this.key(link, t.from);
        this.busyUntil.set(k, Math.max(this.busyUntil.get(k) ?? 0, times.end[i]!));
      }
    });
    return arrivals;
  }

  private readonly ingress = new Map<number, SharedIngress>();
  private readonly egress = new Map<number, SharedIngress | null>();

  /**
   * Under max-min: the shared link into `to` (the star's server ingress) as a port whose
   * transfers share it max-min fairly as the receiver learns of them (src/sim/shared-port.ts),
   * with its trace and link faults as bandwidth changes; a transfer across a partition stalls
   * until it heals (as in the flow simulator). Null under fifo, or when that link is not shared.
   */
  ingressQueue(to: number): SharedIngress | null {
    if (this.sharing !== 'max-min') return null;
    const from = to === 0 ? 1 : 0;
    const route = this.route(from, to);
    if (route.length !== 1 || !route[0]!.shared) return null;
    let q = this.ingress.get(to);
    if (!q) {
      q = this.portOn(route[0]!, (sender, t) => this.faults!.partitionHeal(sender, to, t) > t);
      this.ingress.set(to, q);
    }
    return q;
  }

  /**
   * Under max-min: the one link out of `from` that carries its messages to every worker (the
   * shared star's server egress) as a port whose transfers (the asynchronous masters' replies,
   * keyed by their receiver) share it max-min fairly as the sender enters them, with the same
   * traces, link faults and partitions as `ingressQueue`. Null under fifo, or when `from`'s
   * messages to different workers leave on different links (a star with `shared: false`).
   */
  egressQueue(from: number): SharedIngress | null {
    if (this.sharing !== 'max-min') return null;
    if (this.egress.has(from)) return this.egress.get(from)!;
    const workers = this.topology.workers;
    const link = workers > 0 && from === workers ? this.route(from, 0) : [];
    let q: SharedIngress | null = null;
    if (link.length === 1 && Array.from({ length: workers }, (_, w) => this.route(from, w)).every((r) => r.length === 1 && r[0] === link[0])) {
      q = this.portOn(link[0]!, (receiver, t) => this.faults!.partitionHeal(from, receiver, t) > t);
    }
    this.egress.set(from, q);
    return q;
  }

  /**
   * A max-min port on one link: its bandwidth and latency from the link's trace and link faults
   * (their times are the port's breakpoints), and `cut(peer, t)` (the transfer's far end cut off
   * by a partition at t) stalling a transfer while partitions are configured.
   */
  private portOn(link: Link, cut: (peer: number, t: number) => boolean): SharedIngress {
    const faults = this.faults;
    const changes = [...(link.trace?.times ?? [])];
    let partitioned = false;
    for (const f of faults?.faults ?? []) {
      if (f.kind === 'link' && f.link === link.id) changes.push(f.at, ...(f.for === null ? [] : [f.at + f.for]));
      if (f.kind === 'partition') {
        partitioned = true;
        changes.push(f.at, f.at + f.for);
      }
    }
    changes.sort((x, y) => x - y);
    const port = new SharedPortQueue({
      bandwidthAt: (t) => realBandwidthAt(link, faults, t),
      latencyAt: (t) => realLatencyAt(link, faults, t),
      nextChange: (t) => changes.find((c) => c > t) ?? Infinity,
      // A transfer across a partition stalls where it is until the partition heals (as in the flow simulator).
      ...(partitioned ? { blocked: cut } : {}),
    });
    return {
      add: (peer, seq, bytes, sendTime) => port.add(peer, seq, bytes, sendTime),
      peek: () => port.peek(),
      commit: () => port.commit(),
    };
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
