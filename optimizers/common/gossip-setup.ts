/**
 * A gossip worker's fixed pieces: its row of W (sparse, comm/gossip/mixing-row.ts), the
 * neighbours it exchanges with (the row's non-zero columns but itself: a zero weight in a user's
 * matrix means no message on that edge) and, with `privacy`, its message mechanism.
 */
import { mixingRow, type MixingRow, type MixingSpec } from '../../comm/gossip/mixing-row.ts';
import type { Adjacency } from '../../comm/gossip/graph.ts';
import type { WorkerContext } from '../worker-context.ts';
import { NeighbourExchange } from './gossip-exchange.ts';
import type { GossipConfig } from './gossip-options.ts';
import { MessagePrivacy } from './gossip-privacy.ts';

export interface GossipWorker {
  row: MixingRow;
  /** Position of the worker itself in `row.index`. */
  self: number;
  exchange: NeighbourExchange;
  privacy: MessagePrivacy | null;
}

export function setUpGossip(ctx: WorkerContext, cfg: GossipConfig, kind: string): GossipWorker {
  const adj = ctx.neighbours?.();
  // The config rules refuse these; a plugin host without a neighbour graph gets a clear error.
  if (!adj) throw new Error(`${kind} needs a topology with neighbours (ring, torus, graph, hierarchical), found ${ctx.topology}`);
  const row = mixingRow(cfg.mixing, adj, ctx.rank);
  const self = row.index.indexOf(ctx.rank);
  if (self < 0) throw new Error(`${kind}: worker ${ctx.rank} has weight 0 on itself`);
  const neighbours = Array.from(row.index).filter((j) => j !== ctx.rank);
  return {
    row,
    self,
    exchange: new NeighbourExchange(ctx.ep, neighbours, exchangeGraph(cfg.mixing, adj)),
    privacy: cfg.privacy ? new MessagePrivacy(cfg.privacy, ctx.seed, ctx.rank) : null,
  };
}

/**
 * Every worker's exchange set (its row's non-zero columns but itself), one per process and W:
 * the named rules weigh every topology neighbour (so it is the neighbour graph itself); a user's
 * W may leave an edge out with a zero. Each worker checks every worker's declared messages
 * against it when the round is timed as a unit (gossip-exchange.ts).
 */
const exchangeGraphs = new WeakMap<Adjacency, Map<MixingSpec, Adjacency>>();
export function exchangeGraph(spec: MixingSpec, adj: Adjacency): Adjacency {
  if (typeof spec !== 'object') return adj;
  let bySpec = exchangeGraphs.get(adj);
  if (!bySpec) exchangeGraphs.set(adj, (bySpec = new Map()));
  let g = bySpec.get(spec);
  if (!g) bySpec.set(spec, (g = adj.map((_, j) => Array.from(mixingRow(spec, adj, j).index).filter((k) => k !== j))));
  return g;
}
