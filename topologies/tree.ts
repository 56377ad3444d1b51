import { LinkSet } from './link-set.ts';
import type { Link, LinkSpec, Topology } from './topology.ts';
import { TopologyError } from './topology.ts';

export interface TreeOptions {
  /** Children per switch (k of a k-ary tree). */
  arity: number;
  /** Ratio of the bandwidth below a switch to the bandwidth of its uplink (1: a fat tree). */
  oversubscription: number;
}

/**
 * A k-ary tree of switches above the workers. Level-1 switches hold up to k workers each,
 * level-2 switches up to k level-1 switches, up to one root. Every worker has a full-duplex link
 * to its switch at the link bandwidth (half the latency each way, as on a switch); a switch's
 * uplink carries (workers below it) x B / oversubscription, so oversubscription 1 is a
 * non-blocking fat tree and 4 the usual 4:1 data-centre tree. Routes go up to the lowest
 * common switch and down; messages cut through. With k >= workers this is one switch.
 */
export function treeTopology(workers: number, spec: LinkSpec, o: TreeOptions): Topology {
  if (!Number.isInteger(o.arity) || o.arity < 2) throw new TopologyError(['topology', 'arity'], `expected an integer >= 2, found ${o.arity}`);
  if (!(o.oversubscription >= 1)) throw new TopologyError(['topology', 'oversubscription'], `expected a ratio >= 1, found ${o.oversubscription}`);
  const links = new LinkSet();
  // parent[node] for workers (0..n-1) and switches (n..); below[node] = workers under it.
  const parent: number[] = [];
  const below: number[] = [];
  const level: number[] = [];
  let layer = Array.from({ length: workers }, (_, i) => i);
  for (let i = 0; i < workers; i++) {
    below[i] = 1;
    level[i] = 0;
  }
  let next = workers;
  let depth = 0;
  do {
    depth++;
    const up: number[] = [];
    for (let i = 0; i < layer.length; i += o.arity) {
      const sw = next++;
      up.push(sw);
      below[sw] = 0;
      level[sw] = depth;
      for (const c of layer.slice(i, i + o.arity)) {
        parent[c] = sw;
        below[sw]! += below[c]!;
      }
    }
    layer = up;
  } while (layer.length > 1);
  const root = layer[0]!;
  parent[root] = -1;
  const upLink: Link[] = [];
  const downLink: Link[] = [];
  for (let v = 0; v < next; v++) {
    if (v === root) continue;
    const name = v < workers ? `${v}` : `s${v - workers}`;
    const psw = `s${parent[v]! - workers}`;
    const bw = v < workers ? spec.bandwidth : (below[v]! * spec.bandwidth) / o.oversubscription;
    upLink[v] = links.add(`${name}->${psw}`, bw, spec.latency / 2);
    downLink[v] = links.add(`${psw}->${name}`, bw, spec.latency / 2);
  }
  return {
    kind: 'tree',
    workers,
    hasServer: false,
    forwarding: 'cut',
    links: links.all(),
    route(from, to) {
      if (from === to) return [];
      const ups: Link[] = [];
      const downs: Link[] = [];
      let a = from;
      let b = to;
      while (a !== b) {
        if (level[a]! <= level[b]!) {
          ups.push(upLink[a]!);
          a = parent[a]!;
        } else {
          downs.push(downLink[b]!);
          b = parent[b]!;
        }
      }
      return [...ups, ...downs.reverse()];
    },
  };
}
