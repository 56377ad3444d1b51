import type { Link } from './topology.ts';

/**
 * Shortest-hop routes over a directed link graph, by breadth-first search from each source
 * (computed once per source, on first use). Neighbours are visited in ascending node order, so
 * among equal-length routes the one through the lowest-numbered nodes wins: the same route in
 * every process.
 */
export class ShortestPaths {
  private readonly out: { to: number; link: Link }[][];
  private readonly parents = new Map<number, Int32Array>();
  private readonly via = new Map<number, (Link | null)[]>();

  constructor(
    readonly nodes: number,
    edges: readonly { from: number; to: number; link: Link }[],
  ) {
    this.out = Array.from({ length: nodes }, () => []);
    for (const e of edges) this.out[e.from]!.push({ to: e.to, link: e.link });
    for (const list of this.out) list.sort((x, y) => x.to - y.to);
  }

  private tree(src: number): { parent: Int32Array; link: (Link | null)[] } {
    let parent = this.parents.get(src);
    let link = this.via.get(src);
    if (!parent || !link) {
      parent = new Int32Array(this.nodes).fill(-1);
      link = new Array<Link | null>(this.nodes).fill(null);
      parent[src] = src;
      const queue = [src];
      for (let q = 0; q < queue.length; q++) {
        const u = queue[q]!;
        for (const e of this.out[u]!) {
          if (parent[e.to] !== -1) continue;
          parent[e.to] = u;
          link[e.to] = e.link;
          queue.push(e.to);
        }
      }
      this.parents.set(src, parent);
      this.via.set(src, link);
    }
    return { parent, link };
  }

  route(from: number, to: number): Link[] {
    if (from === to) return [];
    const { parent, link } = this.tree(from);
    if (parent[to] === -1) throw new Error(`no route from ${from} to ${to}`);
    const path: Link[] = [];
    for (let v = to; v !== from; v = parent[v]!) path.push(link[v]!);
    return path.reverse();
  }

  /** Nodes reachable from `src` (for the connectivity check). */
  reachable(src: number): number {
    const { parent } = this.tree(src);
    let k = 0;
    for (const p of parent) if (p !== -1) k++;
    return k;
  }
}
