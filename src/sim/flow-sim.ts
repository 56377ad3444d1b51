import type { Link, Topology } from '../../topologies/index.ts';
import { IndexHeap } from './event-heap.ts';
import { maxMinRates } from './max-min.ts';
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
 */
export function simulateFlows(topology: Topology, flows: readonly FlowRequest[], sharing: Sharing = 'max-min'): FlowTimes {
  const n = flows.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const arrival = new Float64Array(n);
  const readyAt = new Float64Array(n);
  const waiting = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  flows.forEach((f, i) => {
    readyAt[i] = f.ready;
    waiting[i] = f.deps.length;
    for (const d of f.deps) dependents[d]!.push(i);
  });
  const byStart = new IndexHeap((a, b) => readyAt[a]! < readyAt[b]! || (readyAt[a] === readyAt[b] && tieLess(flows, a, b)));
  for (let i = 0; i < n; i++) if (waiting[i] === 0) byStart.push(i);
  const release = (i: number, t: number) => {
    for (const d of dependents[i]!) {
      if (t > readyAt[d]!) readyAt[d] = t;
      if (--waiting[d] === 0) byStart.push(d);
    }
  };

  if (sharing === 'fifo') {
    // The message model, in (ready time, sender, receiver, index) order: a flow's dependencies
    // have arrived by its ready time, so every flow is timed after all flows it waits for.
    const model = new NetworkModel(topology);
    for (let i = byStart.pop(); i !== undefined; i = byStart.pop()) {
      const f = flows[i]!;
      start[i] = readyAt[i]!;
      arrival[i] = f.from === f.to ? readyAt[i]! : model.transmit(f.from, f.to, f.bytes, readyAt[i]!);
      end[i] = arrival[i]!;
      release(i, arrival[i]!);
    }
    return { start, end, arrival };
  }

  const index = new Map<Link, number>();
  topology.links.forEach((l, k) => index.set(l, k));
  const bandwidth = Float64Array.from(topology.links, (l) => l.bandwidth);
  const routes = new Map<number, { links: Int32Array; latency: number }>();
  const routeOf = (from: number, to: number) => {
    const key = from * 1048576 + to;
    let r = routes.get(key);
    if (!r) {
      const path = topology.route(from, to);
      r = { links: Int32Array.from(path, (l) => index.get(l)!), latency: path.reduce((s, l) => s + l.latency, 0) };
      routes.set(key, r);
    }
    return r;
  };
  const remaining = new Float64Array(n);
  const doneAt = new Float64Array(n);
  const arrivals = new IndexHeap((a, b) => arrival[a]! < arrival[b]! || (arrival[a] === arrival[b] && tieLess(flows, a, b)));
  const scratch = { cap: new Float64Array(bandwidth.length), count: new Int32Array(bandwidth.length), touched: new Int32Array(bandwidth.length), newly: new Int32Array(16) };
  let active: number[] = [];
  let activeRoutes: Int32Array[] = [];
  let rate = new Float64Array(16);
  let now = 0;
  for (;;) {
    let t = Infinity;
    const s = byStart.peek();
    if (s !== undefined) t = readyAt[s]!;
    const a = arrivals.peek();
    if (a !== undefined && arrival[a]! < t) t = arrival[a]!;
    for (const f of active) if (doneAt[f]! < t) t = doneAt[f]!;
    if (t === Infinity) break;
    if (t > now) for (let k = 0; k < active.length; k++) remaining[active[k]!] -= rate[k]! * (t - now);
    now = t;
    let changed = false;
    // Flows whose last bit leaves now.
    if (active.length > 0) {
      const still: number[] = [];
      for (const f of active) {
        if (doneAt[f]! <= now) {
          end[f] = now;
          arrival[f] = now + routeOf(flows[f]!.from, flows[f]!.to).latency;
          arrivals.push(f);
          changed = true;
        } else still.push(f);
      }
      active = still;
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
        continue;
      }
      remaining[x] = flows[x]!.bytes * 8;
      active.push(x);
      changed = true;
    }
    if (changed) {
      activeRoutes = active.map((f) => routeOf(flows[f]!.from, flows[f]!.to).links);
      if (rate.length < active.length) rate = new Float64Array(2 * active.length);
      maxMinRates(activeRoutes, bandwidth, rate, scratch);
      for (let k = 0; k < active.length; k++) {
        const f = active[k]!;
        doneAt[f] = remaining[f]! <= 0 ? now : now + remaining[f]! / rate[k]!;
      }
    }
  }
  return { start, end, arrival };
}

function tieLess(flows: readonly FlowRequest[], a: number, b: number): boolean {
  const x = flows[a]!;
  const y = flows[b]!;
  return x.from < y.from || (x.from === y.from && (x.to < y.to || (x.to === y.to && a < b)));
}
