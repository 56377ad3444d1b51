import type { Link, Topology } from './topology.ts';
import type { LinkTrace } from './trace.ts';
import { TopologyError } from './topology.ts';

export interface LinkOverride {
  bandwidth?: number;
  latency?: number;
}

/**
 * A node's own links, and the share of a message's latency each carries: on switches the node's
 * NIC pair (half the latency each way); on rings, tori, graphs and an unshared star every link
 * that starts or ends at the node (all of it).
 */
export function accessLinks(t: Topology, node: number): { links: Link[]; latencyShare: number } {
  const ids = (pred: (id: string) => boolean) => t.links.filter((l) => pred(l.id));
  switch (t.kind) {
    case 'switch':
    case 'hierarchical':
      return { links: ids((id) => id === `up-${node}` || id === `down-${node}`), latencyShare: 0.5 };
    case 'tree':
      return { links: ids((id) => id.startsWith(`${node}->s`) || id.endsWith(`->${node}`)), latencyShare: 0.5 };
    case 'star':
      if (node === t.workers) return { links: t.links, latencyShare: 1 };
      return { links: ids((id) => id === `server-in-${node}` || id === `server-out-${node}`), latencyShare: 1 };
    default:
      return { links: ids((id) => id.startsWith(`${node}->`) || id.endsWith(`->${node}`)), latencyShare: 1 };
  }
}

/**
 * Apply per-node then per-link overrides in place. A node override sets the bandwidth of every
 * link it owns (a link between two overridden nodes takes the lower bandwidth and the higher
 * latency); a link override names one link id.
 */
export function applyOverrides(t: Topology, nodes: Record<string, LinkOverride>, links: Record<string, LinkOverride>): void {
  const total = t.workers + (t.hasServer ? 1 : 0);
  const touched = new Set<Link>();
  for (const [key, o] of Object.entries(nodes)) {
    const node = Number(key);
    if (!Number.isInteger(node) || node < 0 || node >= total) {
      throw new TopologyError(['network', 'nodes', key], `expected a node rank 0..${total - 1}${t.hasServer ? ` (${t.workers} is the server)` : ''}, found ${JSON.stringify(key)}`);
    }
    const { links: own, latencyShare } = accessLinks(t, node);
    if (own.length === 0) {
      throw new TopologyError(['network', 'nodes', key], `expected a node with links of its own, found worker ${node} behind the star's shared server port (use topology.shared: false)`);
    }
    for (const l of own) {
      const first = !touched.has(l);
      touched.add(l);
      if (o.bandwidth !== undefined) l.bandwidth = first ? o.bandwidth : Math.min(l.bandwidth, o.bandwidth);
      if (o.latency !== undefined) l.latency = first ? o.latency * latencyShare : Math.max(l.latency, o.latency * latencyShare);
    }
  }
  for (const [id, o] of Object.entries(links)) {
    const l = t.links.find((x) => x.id === id);
    if (!l) {
      const some = t.links.slice(0, 6).map((x) => x.id);
      throw new TopologyError(['network', 'links', id], `expected a link of this ${t.kind} (${some.join(', ')}${t.links.length > 6 ? ', ...' : ''}), found "${id}"`);
    }
    if (o.bandwidth !== undefined) l.bandwidth = o.bandwidth;
    if (o.latency !== undefined) l.latency = o.latency;
  }
}

/** A trace for one link (by id) or for a node's own links; `path` locates it in errors. */
export interface TraceSpec {
  link?: string;
  node?: number;
  trace: LinkTrace;
  path: (string | number)[];
}

/** Attach traces to their links in place (unknown links and nodes are TopologyErrors). */
export function applyTraces(t: Topology, traces: readonly TraceSpec[]): void {
  const total = t.workers + (t.hasServer ? 1 : 0);
  for (const tr of traces) {
    if (tr.link !== undefined) {
      const l = t.links.find((x) => x.id === tr.link);
      if (!l) throw new TopologyError([...tr.path, 'link'], `expected a link of this ${t.kind} (${t.links.slice(0, 6).map((x) => x.id).join(', ')}${t.links.length > 6 ? ', ...' : ''}), found "${tr.link}"`);
      l.trace = tr.trace;
    } else if (tr.node !== undefined) {
      if (!Number.isInteger(tr.node) || tr.node < 0 || tr.node >= total) throw new TopologyError([...tr.path, 'node'], `expected a node rank 0..${total - 1}, found ${tr.node}`);
      const { links, latencyShare } = accessLinks(t, tr.node);
      if (links.length === 0) throw new TopologyError([...tr.path, 'node'], `expected a node with links of its own, found worker ${tr.node} behind the star's shared server port`);
      for (const l of links) l.trace = { ...tr.trace, latency: tr.trace.latency.map((x) => (x === null ? null : x * latencyShare)) };
    }
  }
}
