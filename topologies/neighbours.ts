import type { Topology } from './topology.ts';

/**
 * The neighbour graph gossip algorithms average over, as adjacency lists (ascending), or null
 * for a topology without one (star, switch, tree: every pair talks through a shared switch or
 * server, so no pair is more "neighbouring" than another and gossip there is refused).
 *
 *  - ring, torus, graph: i ~ j when the topology has a direct link i->j (its links are named
 *    `i->j` between worker ranks); messages between neighbours take exactly that one link.
 *  - hierarchical: every group is a clique (its members share the group's switch: up-i, down-j),
 *    and the groups' gateways (the first rank of each group) form a clique over the WAN links.
 *    Only gateway-to-gateway messages cross the WAN, once per pair of groups per exchange.
 */
export function gossipNeighbours(t: Topology): number[][] | null {
  const n = t.workers;
  if (t.kind === 'hierarchical') {
    const groups = t.groups ?? [];
    const adj: Set<number>[] = Array.from({ length: n }, () => new Set());
    for (const g of groups) for (const a of g) for (const b of g) if (a !== b) adj[a]!.add(b);
    const gateways = groups.map((g) => g[0]!);
    for (const a of gateways) for (const b of gateways) if (a !== b) adj[a]!.add(b);
    return adj.map((s) => [...s].sort((x, y) => x - y));
  }
  if (t.kind !== 'ring' && t.kind !== 'torus' && t.kind !== 'graph') return null;
  const adj: Set<number>[] = Array.from({ length: n }, () => new Set());
  for (const l of t.links) {
    const m = /^(\d+)->(\d+)$/.exec(l.id);
    if (!m) continue;
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a < n && b < n && a !== b) {
      adj[a]!.add(b);
      adj[b]!.add(a);
    }
  }
  return adj.map((s) => [...s].sort((x, y) => x - y));
}
