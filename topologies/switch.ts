import { LinkSet } from './link-set.ts';
import type { LinkSpec, Topology } from './topology.ts';

export interface SwitchOptions {
  /** NIC bandwidth towards the switch (bits/s); default the link bandwidth. */
  up?: number;
  /** NIC bandwidth from the switch; default the link bandwidth. */
  down?: number;
}

/**
 * Every node has a full-duplex NIC into one non-blocking switch: link `up-i` (node i to the
 * switch) and `down-i` (switch to node i). Half the latency sits on each, so a message between
 * two uniform nodes takes a + 8m/B (cut-through). Incast onto one node shares its `down` link.
 */
export function switchTopology(workers: number, spec: LinkSpec, o: SwitchOptions = {}): Topology {
  const links = new LinkSet();
  const up = Array.from({ length: workers }, (_, i) => links.add(`up-${i}`, o.up ?? spec.bandwidth, spec.latency / 2));
  const down = Array.from({ length: workers }, (_, i) => links.add(`down-${i}`, o.down ?? spec.bandwidth, spec.latency / 2));
  return {
    kind: 'switch',
    workers,
    hasServer: false,
    forwarding: 'cut',
    links: links.all(),
    route(from, to) {
      if (from === to) return [];
      return [up[from]!, down[to]!];
    },
  };
}
