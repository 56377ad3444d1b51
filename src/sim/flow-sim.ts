import type { Link, Topology } from '../../topologies/index.ts';
import { IndexHeap } from './event-heap.ts';
import { maxMinRates } from './max-min.ts';
import { bandwidthAt, latencyAt } from '../../topologies/trace.ts';
import type { FaultSchedule } from './faults.ts';
import { NetworkModel } from './network-model.ts';

export type Sharing = 'max-min' | 'fifo';

/** One transfer of a time-only simulation. */
export interface FlowRequest {
  from: number;
  to: number;
  bytes: number;
  /** Earliest virtual start (s): the sender's entry time. */
  ready: number;
  /** Flows that must have arrived before this one can start (indices into the request list). */
  deps: readonly number[];
  /**
   * Flows whose last bit must have left before this one can start (not their arrival): a
   * sender's earlier transfer on a link they share, which its NIC sends first (eager schedules).
   */
  afterEnd?: readonly number[];
}

/** From virtual time `t` on, `rate` bits/s of link `link` (index into topology.links) are taken. */
export interface Reservation {
  t: number;
  link: number;
  rate: number;
}

export interface FlowTimes {
  /** When each flow started sending. */
  start: Float64Array;
  /** When its last bit left (start + serialization under sharing). */
  end: Float64Array;
  /** When it arrived: end + the route's latency. */
  arrival: Float64Array;
}

/**
 * A pure flow-level simulation of transfers over a topology (no payloads, no clocks).
 *
 * `max-min`: every active flow crosses its route at the max-min fair rate (progressive filling),
 * recomputed whenever a flow starts or ends; a flow arrives its route's summed latency after its
 * last bit. One flow alone on a link takes a + 8m/B; k equal flows started together take
 * a + 8km/B each. `fifo`: each flow is timed by the message model (NetworkModel: per-sender
 * link occupancy, first come first served), exactly as real runs time their messages.
 *
 * A flow starts once its sender is ready and its dependencies have arrived; ties between events
 * at one virtual time are broken by (sender, receiver, index), so the result is a function of
 * the requests only.
 *
 * `faults` (max-min): a link fault changes its link's bandwidth (and latency) for its window,
 * so the flows crossing it are refilled at its start and at its end, as at a trace breakpoint;
 * while a partition is in force, a flow between its two sides is stalled (rate 0, it keeps what
 * it has sent) and resumes when the partition heals. `fifo` hands them to the message model,
 * which applies them at each transfer's start.
 */
export function simulateFlows(
  topology: Topology,
  flows: readonly FlowRequest[],
  sharing: Sharing = 'max-min',
  /** max-min: told every rate assignment (virtual time, flow, bits/s; 0 when the flow ends), for utilization plots. */
  onRate?: (t: number, flow: number, rate: number) => void,
  faults: FaultSchedule | null = null,
  /**
   * max-min: capacity already taken on links by transfers timed before (earlier collectives
   * still in flight): from `t` on, `rate` bits/s of link index `link` are not available (the
   * absolute reserved rate, replacing the link's previous one).
   */
  reserved: readonly Reservation[] | null = null,
): FlowTimes {
  const n = flows.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const arrival = new Float64Array(n);
  const readyAt = new Float64Array(n);
  const waiting = new Int32Array(n);
  // Who waits for whom, in compressed rows (a large collective has millions of flows).
  const depStart = new Int32Array(n + 1);
  // The same for dependencies on a flow's end (FlowRequest.afterEnd), when any flow has them.
  const ends = flows.some((f) => (f.afterEnd?.length ?? 0) > 0);
  const endStart = new Int32Array(ends ? n + 1 : 0);
  flows.forEach((f, i) => {
    readyAt[i] = f.ready;
    waiting[i] = f.deps.length + (f.afterEnd?.length ?? 0);
    for (const d of f.deps) depStart[d + 1]!++;
    if (ends) for (const d of f.afterEnd ?? []) endStart[d + 1]!++;
  });
  for (let i = 0; i < n; i++) depStart[i + 1]! += depStart[i]!;
  const depFill = depStart.slice(0, n);
  const dependents = new Int32Array(depStart[n]!);
  flows.forEach((f, i) => {
    for (const d of f.deps) dependents[depFill[d]!++] = i;
  });
  if (ends) for (let i = 0; i < n; i++) endStart[i + 1]! += endStart[i]!;
  const endFill = endStart.slice(0, n);
  const endDependents = new Int32Array(ends ? endStart[n]! : 0);
  if (ends) flows.forEach((f, i) => {
    for (const d of f.afterEnd ?? []) endDependents[endFill[d]!++] = i;
  });
  const byStart = new IndexHeap((a, b) => readyAt[a]! < readyAt[b]! || (readyAt[a] === readyAt[b] && tieLess(flows, a, b)));
  for (let i = 0; i < n; i++) if (waiting[i] === 0) byStart.push(i);
  const release = (i: number, t: number) => {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
      const d = dependents[k]!;
      if (t > readyAt[d]!) readyAt[d] = t;
      if (--waiting[d] === 0) byStart.push(d);
    }
  };
  /** Flow i's last bit left at t: the flows waiting for its end may start. */
  const releaseEnd = (i: number, t: number) => {
    if (!ends) return;
    for (let k = endStart[i]!; k < endStart[i + 1]!; k++) {
      const d = endDependents[k]!;
      if (t > readyAt[d]!) readyAt[d] = t;
      if (--waiting[d] === 0) byStart.push(d);
    }
  };

  if (sharing === 'fifo') {
    // The message model, in (ready time, sender, receiver, index) order: a flow's dependencies
    // have arrived by its ready time, so every flow is timed after all flows it waits for.
    const model = new NetworkModel(topology, faults);
    for (let i = byStart.pop(); i !== undefined; i = byStart.pop()) {
      const f = flows[i]!;
      start[i] = readyAt[i]!;
      arrival[i] = f.from === f.to ? readyAt[i]! : model.transmit(f.from, f.to, f.bytes, readyAt[i]!);
      end[i] = arrival[i]!;
      release(i, arrival[i]!);
      // The message model queues a sender's messages on its links itself: they may be handed to it now.
      releaseEnd(i, start[i]!);
    }
    return { start, end, arrival };
  }

  const index = new Map<Link, number>();
  topology.links.forEach((l, k) => index.set(l, k));
  const bandwidth = Float64Array.from(topology.links, (l) => l.bandwidth);
  const routes2 = new Map<number, { links: Int32Array; latency: number; traced: Link[] | null }>();
  const routeOf = (from: number, to: number) => {
    const key = from * 1048576 + to;
    let r = routes2.get(key);
    if (!r) {
      const path = topology.route(from, to);
      r = { links: Int32Array.from(path, (l) => index.get(l)!), latency: path.reduce((s, l) => s + l.latency, 0), traced: path.some((l) => l.trace || faulted.has(l.id)) ? path : null };
      routes2.set(key, r);
    }
    return r;
  };
  // Links some fault changes (by id), and the partitions: both only matter when present.
  const faulted = new Set<string>();
  const breaks: { t: number; l: number; reserve?: number }[] = [];
  let partitioned = false;
  for (const f of faults?.faults ?? []) {
    if (f.kind === 'link') faulted.add(f.link);
    if (f.kind === 'partition') {
      partitioned = true;
      // l = -1: the set of stalled flows changes.
      breaks.push({ t: f.at, l: -1 }, { t: f.at + f.for, l: -1 });
    }
  }
  /** A link's bandwidth / latency at t: a fault in force wins over its trace. */
  const linkFault = (l: Link, t: number) => (faulted.has(l.id) ? faults!.link(l.id, t) : null);
  const bandwidthOf = (l: Link, t: number) => linkFault(l, t)?.bandwidth ?? bandwidthAt(l, t);
  /** The route's latency for a flow whose last bit leaves at t (traced or faulted links: their latency then). */
  const latencyOf = (from: number, to: number, t: number) => {
    const r = routeOf(from, to);
    return r.traced ? r.traced.reduce((s, l) => s + (linkFault(l, t)?.latency ?? latencyAt(l, t)), 0) : r.latency;
  };
  // Trace, fault and reservation breakpoints: the link's capacity changes, so the flows crossing it are refilled.
  const taken = new Float64Array(topology.links.length);
  for (const r of reserved ?? []) breaks.push({ t: r.t, l: r.link, reserve: r.rate });
  topology.links.forEach((l, k) => {
    l.trace?.times.forEach((t) => breaks.push({ t, l: k }));
    for (const f of faults?.faults ?? []) {
      if (f.kind !== 'link' || f.link !== l.id) continue;
      breaks.push({ t: f.at, l: k });
      if (f.for !== null) breaks.push({ t: f.at + f.for, l: k });
    }
  });
  breaks.sort((x, y) => x.t - y.t || x.l - y.l);
  let nb = 0;
  /** True while a partition separates the flow's ends (it is stalled). */
  const cut = (f: number) => partitioned && faults!.partitionHeal(flows[f]!.from, flows[f]!.to, now) > now;
  const stalled = new Uint8Array(n);
  // Flows started and not yet ended: counted (stalled ones wait for a breakpoint), and listed
  // only when partitions must re-examine them (a Set per flow costs large collectives time).
  const active = new Set<number>();
  let activeCount = 0;
  const remaining = new Float64Array(n);
  const rateOf = new Float64Array(n);
  const updated = new Float64Array(n);
  const doneAt = new Float64Array(n);
  const version = new Int32Array(n);
  const arrivals = new IndexHeap((a, b) => arrival[a]! < arrival[b]! || (arrival[a] === arrival[b] && tieLess(flows, a, b)));
  // Completion events with lazy invalidation (an entry is live while its version is current),
  // in a binary heap over parallel typed arrays: no object per event.
  let hT = new Float64Array(64);
  let hF = new Int32Array(64);
  let hV = new Int32Array(64);
  let hN = 0;
  const hLess = (i: number, j: number) => hT[i]! < hT[j]! || (hT[i] === hT[j] && hF[i]! < hF[j]!);
  const hSwap = (i: number, j: number) => {
    const t = hT[i]!;
    hT[i] = hT[j]!;
    hT[j] = t;
    const f = hF[i]!;
    hF[i] = hF[j]!;
    hF[j] = f;
    const v = hV[i]!;
    hV[i] = hV[j]!;
    hV[j] = v;
  };
  const pushDone = (t: number, f: number, v: number) => {
    if (hN === hT.length) {
      const grow = <A extends Float64Array | Int32Array>(x: A, make: (k: number) => A): A => {
        const y = make(2 * x.length);
        y.set(x);
        return y;
      };
      hT = grow(hT, (k) => new Float64Array(k));
      hF = grow(hF, (k) => new Int32Array(k));
      hV = grow(hV, (k) => new Int32Array(k));
    }
    hT[hN] = t;
    hF[hN] = f;
    hV[hN] = v;
    for (let i = hN++; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!hLess(i, p)) break;
      hSwap(i, p);
      i = p;
    }
  };
  const popDone = () => {
    hN--;
    if (hN > 0) {
      hT[0] = hT[hN]!;
      hF[0] = hF[hN]!;
      hV[0] = hV[hN]!;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < hN && hLess(l, m)) m = l;
        if (r < hN && hLess(r, m)) m = r;
        if (m === i) break;
        hSwap(i, m);
        i = m;
      }
    }
  };
  /** The earliest live completion's time (Infinity if none); its flow is hF[0]. */
  const liveDone = () => {
    while (hN > 0 && hV[0] !== version[hF[0]!]) popDone();
    return hN > 0 ? hT[0]! : Infinity;
  };
  const L = bandwidth.length;
  // Active flows on each link (insertion-ordered, so iteration order is deterministic).
  const onLink: Set<number>[] = Array.from({ length: L }, () => new Set<number>());
  const flowLinks: (Int32Array | null)[] = new Array(n).fill(null);
  const scratch = { cap: new Float64Array(L), count: new Int32Array(L), touched: new Int32Array(L), newly: new Int32Array(16) };
  const linkSeen = new Uint8Array(L);
  const flowSeen = new Uint8Array(n);
  let rate = new Float64Array(16);
  const dirty: number[] = [];
  // Reused every event (the simulation of a large collective has millions of events).
  const comp: number[] = [];
  const stack: number[] = [];
  const seenLinks: number[] = [];
  const routesOfComp: Int32Array[] = [];
  let now = 0;
  for (;;) {
    let t = Infinity;
    const s = byStart.peek();
    if (s !== undefined) t = readyAt[s]!;
    const a = arrivals.peek();
    if (a !== undefined && arrival[a]! < t) t = arrival[a]!;
    const d = liveDone();
    if (d < t) t = d;
    // Stalled flows wait for a breakpoint (a partition heals): the run goes on while one is left.
    if (t === Infinity && (activeCount === 0 || nb >= breaks.length)) break;
    if (nb < breaks.length && breaks[nb]!.t < t) t = Math.max(now, breaks[nb]!.t);
    now = t;
    dirty.length = 0;
    let partitionsChanged = false;
    for (; nb < breaks.length && breaks[nb]!.t <= now; nb++) {
      const l = breaks[nb]!.l;
      if (l < 0) {
        partitionsChanged = true;
        continue;
      }
      const reserve = breaks[nb]!.reserve;
      if (reserve !== undefined) taken[l] = reserve;
      bandwidth[l] = Math.max(0, bandwidthOf(topology.links[l]!, now) - taken[l]!);
      dirty.push(l);
    }
    if (partitionsChanged) {
      // Flows that a partition now separates stop where they are; healed ones resume.
      for (const f of active) {
        const c = cut(f);
        if (c === (stalled[f] === 1)) continue;
        if (c) {
          remaining[f] = Math.max(0, remaining[f]! - rateOf[f]! * (now - updated[f]!));
          updated[f] = now;
          rateOf[f] = 0;
          version[f]!++;
          onRate?.(now, f, 0);
          stalled[f] = 1;
          for (const l of flowLinks[f]!) {
            onLink[l]!.delete(f);
            dirty.push(l);
          }
        } else {
          stalled[f] = 0;
          for (const l of flowLinks[f]!) {
            onLink[l]!.add(f);
            dirty.push(l);
          }
        }
      }
    }
    // Flows whose last bit leaves now.
    for (let e = liveDone(); e <= now; e = liveDone()) {
      const f = hF[0]!;
      popDone();
      version[f]!++;
      end[f] = now;
      activeCount--;
      if (partitioned) active.delete(f);
      onRate?.(now, f, 0);
      arrival[f] = now + latencyOf(flows[f]!.from, flows[f]!.to, now);
      arrivals.push(f);
      releaseEnd(f, now);
      for (const l of flowLinks[f]!) {
        onLink[l]!.delete(f);
        dirty.push(l);
      }
    }
    // Arrivals release the flows waiting for them.
    for (let x = arrivals.peek(); x !== undefined && arrival[x]! <= now; x = arrivals.peek()) {
      arrivals.pop();
      release(x, arrival[x]!);
    }
    for (let x = byStart.peek(); x !== undefined && readyAt[x]! <= now; x = byStart.peek()) {
      byStart.pop();
      start[x] = now;
      if (flows[x]!.from === flows[x]!.to) {
        // A transfer to oneself (a rank's clock join) takes no time and no link.
        end[x] = now;
        arrival[x] = now;
        arrivals.push(x);
        releaseEnd(x, now);
        continue;
      }
      const links = routeOf(flows[x]!.from, flows[x]!.to).links;
      flowLinks[x] = links;
      remaining[x] = flows[x]!.bytes * 8;
      updated[x] = now;
      activeCount++;
      if (partitioned) active.add(x);
      if (cut(x)) {
        // Across a partition: it waits (rate 0) until the partition heals.
        stalled[x] = 1;
        rateOf[x] = 0;
        continue;
      }
      for (const l of links) {
        onLink[l]!.add(x);
        dirty.push(l);
      }
      if (links.length === 0) {
        rateOf[x] = Infinity;
        version[x]!++;
        pushDone(now, x, version[x]!);
      }
    }
    if (dirty.length === 0) continue;
    // Only the flows connected (through shared links) to a link that changed can change rate.
    comp.length = 0;
    stack.length = 0;
    seenLinks.length = 0;
    for (const l of dirty) {
      if (linkSeen[l]) continue;
      linkSeen[l] = 1;
      stack.push(l);
      seenLinks.push(l);
    }
    while (stack.length > 0) {
      const l = stack.pop()!;
      for (const f of onLink[l]!) {
        if (flowSeen[f]) continue;
        flowSeen[f] = 1;
        comp.push(f);
        for (const m of flowLinks[f]!) {
          if (!linkSeen[m]) {
            linkSeen[m] = 1;
            stack.push(m);
            seenLinks.push(m);
          }
        }
      }
    }
    // Deterministic order within the component: by flow index.
    comp.sort((x, y) => x - y);
    routesOfComp.length = comp.length;
    for (let k = 0; k < comp.length; k++) routesOfComp[k] = flowLinks[comp[k]!]!;
    if (rate.length < comp.length) rate = new Float64Array(2 * comp.length);
    maxMinRates(routesOfComp, bandwidth, rate, scratch);
    for (let k = 0; k < comp.length; k++) {
      const f = comp[k]!;
      flowSeen[f] = 0;
      remaining[f] = Math.max(0, remaining[f]! - rateOf[f]! * (now - updated[f]!));
      updated[f] = now;
      // A new flow, or one whose rate changed, gets a new completion event; the others keep theirs.
      if (rate[k] !== rateOf[f] || updated[f] === start[f] && remaining[f] === flows[f]!.bytes * 8) {
        rateOf[f] = rate[k]!;
        onRate?.(now, f, rate[k]!);
        version[f]!++;
        pushDone(remaining[f]! <= 0 ? now : now + remaining[f]! / rate[k]!, f, version[f]!);
      }
    }
    for (const l of seenLinks) linkSeen[l] = 0;
  }
  return { start, end, arrival };
}

function tieLess(flows: readonly FlowRequest[], a: number, b: number): boolean {
  const x = flows[a]!;
  const y = flows[b]!;
  return x.from < y.from || (x.from === y.from && (x.to < y.to || (x.to === y.to && a < b)));
}
