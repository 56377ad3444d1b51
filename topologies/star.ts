import type { Link, LinkSpec, Topology } from './topology.ts';

/**
 * Star around a parameter server (node `workers`). The server's port is the bottleneck: one
 * shared ingress link carries every push and one egress link every reply, each at the link
 * bandwidth, so a push/pull round of M bytes per worker takes 2(a + nM/B).
 * Worker-to-worker traffic goes through the server (ingress then egress).
 */
export function starTopology(workers: number, spec: LinkSpec): Topology {
  const ingress: Link = { id: 'server-in', bandwidth: spec.bandwidth, latency: spec.latency, shared: true };
  const egress: Link = { id: 'server-out', bandwidth: spec.bandwidth, latency: spec.latency, shared: false };
  const server = workers;
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
