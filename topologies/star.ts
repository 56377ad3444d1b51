import type { Link, LinkSpec, Topology } from './topology.ts';

export interface StarOptions {
  /** The server's own port (bandwidth, latency); default the link spec. */
  server?: Partial<LinkSpec>;
  /** false: one port per worker at the server (no single bottleneck). Default true. */
  shared?: boolean;
}

/**
 * Star around a parameter server (node `workers`). The server's port is the bottleneck: one
 * shared ingress link carries every push and one egress link every reply, each at the link
 * bandwidth, so a push/pull round of M bytes per worker takes 2(a + nM/B).
 * Worker-to-worker traffic goes through the server (ingress then egress).
 * With `shared: false` every worker has its own pair of links to the server (`server-in-i`,
 * `server-out-i`), so pushes never contend: a round takes 2(a + M/B).
 */
export function starTopology(workers: number, spec: LinkSpec, o: StarOptions = {}): Topology {
  const bandwidth = o.server?.bandwidth ?? spec.bandwidth;
  const latency = o.server?.latency ?? spec.latency;
  const server = workers;
  if (o.shared === false) {
    const ins: Link[] = Array.from({ length: workers }, (_, i) => ({ id: `server-in-${i}`, bandwidth, latency, shared: false }));
    const outs: Link[] = Array.from({ length: workers }, (_, i) => ({ id: `server-out-${i}`, bandwidth, latency, shared: false }));
    return {
      kind: 'star',
      workers,
      hasServer: true,
      links: [...ins, ...outs],
      route(from, to) {
        if (from === to) return [];
        if (to === server) return [ins[from]!];
        if (from === server) return [outs[to]!];
        return [ins[from]!, outs[to]!];
      },
    };
  }
  const ingress: Link = { id: 'server-in', bandwidth, latency, shared: true };
  const egress: Link = { id: 'server-out', bandwidth, latency, shared: false };
  return {
    kind: 'star',
    workers,
    hasServer: true,
    links: [ingress, egress],
    route(from, to) {
      if (from === to) return [];
      if (to === server) return [ingress];
      if (from === server) return [egress];
      return [ingress, egress];
    },
  };
}
