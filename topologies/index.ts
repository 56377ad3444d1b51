import { ringTopology } from './ring.ts';
import { starTopology } from './star.ts';
import type { LinkSpec, Topology } from './topology.ts';

export type TopologyKind = 'ring' | 'star';
export const TOPOLOGY_KINDS: readonly TopologyKind[] = ['ring', 'star'];

export function buildTopology(kind: TopologyKind, workers: number, spec: LinkSpec): Topology {
  switch (kind) {
    case 'ring':
      return ringTopology(workers, spec);
    case 'star':
      return starTopology(workers, spec);
  }
}
export type { Link, LinkSpec, Topology } from './topology.ts';
