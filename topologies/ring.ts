import type { Link, LinkSpec, Topology } from './topology.ts';

/**
 * Bidirectional ring: node i has a link to i+1 and to i-1 (mod n). A message to a non-neighbour
 * travels clockwise hop by hop (store and forward). Each link has one sender for neighbour
 * traffic, which is all the ring collectives use.
 */
export function ringTopology(workers: number, spec: LinkSpec): Topology {
  const links = new Map<string, Link>();
  const link = (a: number, b: number): Link => {
    const id = `${a}->${b}`;
    let l = links.get(id);
    if (!l) {
      l = { id, bandwidth: spec.bandwidth, latency: spec.latency, shared: false };
      links.set(id, l);
    }
    return l;
  };
  for (let i = 0; i < workers; i++) {
    if (workers > 1) {
      link(i, (i + 1) % workers);
      link(i, (i - 1 + workers) % workers);
    }
  }
  // Neighbour routes built once: the ring collectives ask for them 2n(n-1) times per all-reduce.
  const toRight = Array.from({ length: workers }, (_, i) => (workers > 1 ? [link(i, (i + 1) % workers)] : []));
  const toLeft = Array.from({ length: workers }, (_, i) => (workers > 1 ? [link(i, (i - 1 + workers) % workers)] : []));
  return {
    kind: 'ring',
    workers,
    hasServer: false,
    links: [...links.values()],
    route(from, to) {
      if (from === to) return [];
      if ((from - 1 + workers) % workers === to) return toLeft[from]!.slice();
      if ((from + 1) % workers === to) return toRight[from]!.slice();
      const path: Link[] = [];
      for (let i = from; i !== to; i = (i + 1) % workers) path.push(link(i, (i + 1) % workers));
      return path;
    },
  };
}
