import { graphTopology, generateEdges, type GeneratedGraph, type GraphEdge } from './graph.ts';
import { hierarchicalTopology } from './hierarchical.ts';
import { applyOverrides, applyTraces, type LinkOverride, type TraceSpec } from './overrides.ts';
import { ringTopology } from './ring.ts';
import { starTopology, type StarOptions } from './star.ts';
import { switchTopology, type SwitchOptions } from './switch.ts';
import { torusTopology } from './torus.ts';
import { treeTopology } from './tree.ts';
import type { LinkSpec, Topology } from './topology.ts';
import { TopologyError } from './topology.ts';

export type TopologyKind = 'ring' | 'star' | 'switch' | 'tree' | 'torus' | 'hierarchical' | 'graph';
export const TOPOLOGY_KINDS: readonly TopologyKind[] = ['ring', 'star', 'switch', 'tree', 'torus', 'hierarchical', 'graph'];

/** Everything beyond kind, workers and the default link that a topology may be given (SI units). */
export interface TopologyOptions extends StarOptions, SwitchOptions {
  arity?: number;
  oversubscription?: number;
  dims?: readonly number[];
  groups?: number | readonly number[];
  intra?: Partial<LinkSpec>;
  inter?: Partial<LinkSpec>;
  /** Graph: explicit edges, or a generated family. */
  edges?: readonly GraphEdge[];
  /** Names the source of edge i in errors (YAML key path or file:line). */
  edgeWhere?: (i: number) => (string | number)[];
  generate?: GeneratedGraph;
  /** Per-node and per-link overrides (network.nodes, network.links). */
  nodes?: Record<string, LinkOverride>;
  links?: Record<string, LinkOverride>;
  /** Bandwidth traces replayed on links or on nodes' own links (network.traces). */
  traces?: TraceSpec[];
}

/**
 * The topology of an experiment, as pure data. Throws TopologyError (with the config path it
 * concerns) for descriptions that cannot be built.
 */
export function buildTopology(kind: TopologyKind, workers: number, spec: LinkSpec, o: TopologyOptions = {}): Topology {
  const t = buildBase(kind, workers, spec, o);
  if (o.nodes || o.links) applyOverrides(t, o.nodes ?? {}, o.links ?? {});
  if (o.traces) applyTraces(t, o.traces);
  return t;
}

function buildBase(kind: TopologyKind, workers: number, spec: LinkSpec, o: TopologyOptions): Topology {
  switch (kind) {
    case 'ring':
      return ringTopology(workers, spec);
    case 'star':
      return starTopology(workers, spec, o);
    case 'switch':
      return switchTopology(workers, spec, o);
    case 'tree':
      return treeTopology(workers, spec, { arity: o.arity ?? 4, oversubscription: o.oversubscription ?? 1 });
    case 'torus':
      if (!o.dims) throw new TopologyError(['topology', 'dims'], 'expected dims (like [4, 4]) for a torus, found nothing');
      return torusTopology(workers, spec, o.dims);
    case 'hierarchical':
      if (o.groups === undefined) throw new TopologyError(['topology', 'groups'], 'expected groups (a count or a list of sizes) for a hierarchical topology, found nothing');
      return hierarchicalTopology(workers, o.groups, { ...spec, ...o.intra }, { ...spec, ...o.inter });
    case 'graph': {
      if (o.edges && o.generate) throw new TopologyError(['topology', 'generate'], 'expected either links/file or generate for a graph, found both');
      if (o.generate) return graphTopology(workers, spec, generateEdges(workers, o.generate), () => ['topology', 'generate']);
      if (!o.edges) throw new TopologyError(['topology', 'links'], 'expected links, file or generate for a graph, found none');
      return graphTopology(workers, spec, o.edges, o.edgeWhere);
    }
  }
}
export type { Link, LinkSpec, Topology } from './topology.ts';
export { TopologyError } from './topology.ts';
export type { GraphEdge, GeneratedGraph } from './graph.ts';
