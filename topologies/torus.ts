import { LinkSet } from './link-set.ts';
import type { Link, LinkSpec, Topology } from './topology.ts';
import { TopologyError } from './topology.ts';

/** Coordinates of a rank: rank = x0 + d0*(x1 + d1*x2). */
export function torusCoords(rank: number, dims: readonly number[]): number[] {
  const c: number[] = [];
  let r = rank;
  for (const d of dims) {
    c.push(r % d);
    r = Math.floor(r / d);
  }
  return c;
}

export function torusRank(coords: readonly number[], dims: readonly number[]): number {
  let r = 0;
  for (let i = dims.length - 1; i >= 0; i--) r = r * dims[i]! + coords[i]!;
  return r;
}

/**
 * 2-D or 3-D torus with wrap-around links (`a->b` for each neighbour pair, both directions).
 * Routing is dimension-ordered: along dimension 0 first, the shorter way round (ties go up),
 * then dimension 1, then 2. Multi-hop messages cut through.
 */
export function torusTopology(workers: number, spec: LinkSpec, dims: readonly number[]): Topology {
  if (dims.length < 2 || dims.length > 3) throw new TopologyError(['topology', 'dims'], `expected 2 or 3 dimensions, found ${dims.length}`);
  for (const [i, d] of dims.entries()) if (!Number.isInteger(d) || d < 2) throw new TopologyError(['topology', 'dims', i], `expected an integer >= 2, found ${d}`);
  const product = dims.reduce((a, b) => a * b, 1);
  if (product !== workers) throw new TopologyError(['topology', 'dims'], `expected dimensions whose product is workers (${workers}), found ${dims.join(' x ')} = ${product}`);
  const links = new LinkSet();
  const link = (a: number, b: number): Link => links.add(`${a}->${b}`, spec.bandwidth, spec.latency);
  for (let r = 0; r < workers; r++) {
    const c = torusCoords(r, dims);
    dims.forEach((d, k) => {
      for (const s of [1, -1]) {
        const n = [...c];
        n[k] = (c[k]! + s + d) % d;
        const to = torusRank(n, dims);
        if (to !== r) link(r, to);
      }
    });
  }
  return {
    kind: 'torus',
    workers,
    hasServer: false,
    forwarding: 'cut',
    dims: [...dims],
    links: links.all(),
    route(from, to) {
      if (from === to) return [];
      const cur = torusCoords(from, dims);
      const dst = torusCoords(to, dims);
      const path: Link[] = [];
      dims.forEach((d, k) => {
        const fwd = (dst[k]! - cur[k]! + d) % d;
        const step = fwd <= d - fwd ? 1 : -1;
        while (cur[k] !== dst[k]) {
          const a = torusRank(cur, dims);
          cur[k] = (cur[k]! + step + d) % d;
          path.push(link(a, torusRank(cur, dims)));
        }
      });
      return path;
    },
  };
}
