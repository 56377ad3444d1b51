import { LinkSet } from './link-set.ts';
import type { Link, LinkSpec, Topology } from './topology.ts';
import { TopologyError } from './topology.ts';

/** Group sizes from `groups`: a count that divides workers, or a list of sizes that adds up to it. */
export function groupSizes(workers: number, groups: number | readonly number[]): number[] {
  if (typeof groups === 'number') {
    if (!Number.isInteger(groups) || groups < 1 || workers % groups !== 0) {
      throw new TopologyError(['topology', 'groups'], `expected a number of groups that divides workers (${workers}), found ${groups}`);
    }
    return new Array<number>(groups).fill(workers / groups);
  }
  for (const [i, g] of groups.entries()) if (!Number.isInteger(g) || g < 1) throw new TopologyError(['topology', 'groups', i], `expected a group size >= 1, found ${g}`);
  const sum = groups.reduce((a, b) => a + b, 0);
  if (sum !== workers) throw new TopologyError(['topology', 'groups'], `expected group sizes adding up to workers (${workers}), found ${groups.join(' + ')} = ${sum}`);
  return [...groups];
}

/**
 * Islands (data centres): each group of workers sits on its own non-blocking switch at `intra`
 * bandwidth and latency (links `up-i` / `down-i`, half the latency each); the groups' gateways
 * are joined pairwise by `inter` links (`g0->g1`, a WAN). A message inside a group takes
 * a_intra + 8m/B_intra; across groups it cuts through up-i, gA->gB, down-j, so it takes
 * a_intra + a_inter + 8m/min(B_intra, B_inter). Workers of one group share its WAN links.
 */
export function hierarchicalTopology(workers: number, groups: number | readonly number[], intra: LinkSpec, inter: LinkSpec): Topology {
  const sizes = groupSizes(workers, groups);
  const members: number[][] = [];
  const groupOf: number[] = [];
  let r = 0;
  sizes.forEach((s, g) => {
    const m: number[] = [];
    for (let k = 0; k < s; k++, r++) {
      m.push(r);
      groupOf[r] = g;
    }
    members.push(m);
  });
  const links = new LinkSet();
  const up = Array.from({ length: workers }, (_, i) => links.add(`up-${i}`, intra.bandwidth, intra.latency / 2));
  const down = Array.from({ length: workers }, (_, i) => links.add(`down-${i}`, intra.bandwidth, intra.latency / 2));
  const wan = new Map<string, Link>();
  for (let a = 0; a < sizes.length; a++)
    for (let b = 0; b < sizes.length; b++) if (a !== b) wan.set(`${a}:${b}`, links.add(`g${a}->g${b}`, inter.bandwidth, inter.latency));
  return {
    kind: 'hierarchical',
    workers,
    hasServer: false,
    forwarding: 'cut',
    groups: members,
    links: links.all(),
    route(from, to) {
      if (from === to) return [];
      const ga = groupOf[from]!;
      const gb = groupOf[to]!;
      if (ga === gb) return [up[from]!, down[to]!];
      return [up[from]!, wan.get(`${ga}:${gb}`)!, down[to]!];
    },
  };
}
