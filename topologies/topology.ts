import type { LinkTrace } from './trace.ts';

/**
 * A topology is a pure description: nodes, directed links with bandwidth and latency, and the
 * route (sequence of links) a message takes between two nodes. No I/O, no clocks.
 */
export interface Link {
  id: string;
  /** Bits per second. */
  bandwidth: number;
  /** Seconds. */
  latency: number;
  /** Several senders contend for this link; only its receiver can order them deterministically. */
  shared: boolean;
  /** A replayed bandwidth/latency trace (virtual time), if any. */
  trace?: LinkTrace;
}

export interface Topology {
  kind: string;
  /** Worker count; a parameter server, when present, is node `workers`. */
  workers: number;
  hasServer: boolean;
  links: Link[];
  route(from: number, to: number): Link[];
  /**
   * How a message crosses a multi-hop route. `store`: hop by hop, each hop a + 8m/B (ring and
   * star, as they always were). `cut`: the message streams through the route at the rate of its
   * slowest link, a message of m bytes takes sum(a) + 8m/min(B) (switches, trees, graphs; what a
   * flow-level model such as SimGrid's assumes). Absent means `store`.
   */
  forwarding?: 'store' | 'cut';
  /** Worker groups (islands) when the topology has them (hierarchical), each a list of ranks. */
  groups?: number[][];
  /** Torus dimensions, when the topology is a torus (rank = x0 + d0*(x1 + d1*x2)). */
  dims?: number[];
}

export interface LinkSpec {
  bandwidth: number;
  latency: number;
}

/** A bad topology description: `path` is the config key under `topology` / `network` it concerns. */
export class TopologyError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}
