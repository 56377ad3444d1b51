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
}

export interface Topology {
  kind: string;
  /** Worker count; a parameter server, when present, is node `workers`. */
  workers: number;
  hasServer: boolean;
  links: Link[];
  route(from: number, to: number): Link[];
}

export interface LinkSpec {
  bandwidth: number;
  latency: number;
}
