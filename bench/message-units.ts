// What timing message collectives as units costs (max-min on cut-through topologies): CPU
// seconds per gossip round (D-PSGD's neighbour exchange on a square torus) and per ring
// all-gather of variable payloads (a switch), message by message (the link model) against timed
// as a unit (entry stamps on the process's board + one timing per process), every rank in this
// process, measured in the same run. `node --import tsx bench/message-units.ts [16,64,256]`
import { allGather, configureCollectives } from '../comm/collectives/configured.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { NeighbourExchange } from '../optimizers/common/gossip-exchange.ts';
import { unitTiming } from '../src/runtime/collective-setup.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';
import { writeResult } from './bench-io.ts';

const SIZES = (process.argv[2] ?? '16,64,256').split(',').map(Number);
const ROUNDS = 5;
const spec = { bandwidth: 10e9, latency: 5e-6 };

function endpoints(topo: Topology, unit: boolean): Endpoint[] {
  const n = topo.workers;
  const router = new InprocRouter();
  const model = new NetworkModel(topo, null, 'max-min');
  // One options object for all ranks, as one worker host has (its ranks share entry stamps on a board).
  const options = { collective: 'ring' as const, shape: {}, ...(unit ? { ...unitTiming(topo, null, n), messagesAsUnit: true } : {}) };
  return Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, model);
    router.attach(ep);
    configureCollectives(ep, options);
    return ep;
  });
}

/**
 * CPU seconds (user + system) per round of `round` over every rank, median of ROUNDS. Each round
 * is a step: 10 ms of compute first, so rounds do not overlap in virtual time (as in a run).
 */
async function cpuPerRound(eps: Endpoint[], exchange: (ep: Endpoint) => Promise<unknown>): Promise<number> {
  const round = (ep: Endpoint) => {
    ep.now += 0.01;
    return exchange(ep);
  };
  await Promise.all(eps.map(round));
  const t: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    const c0 = process.cpuUsage();
    await Promise.all(eps.map(round));
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1e6);
  }
  return t.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const rows: Record<string, unknown>[] = [];
for (const n of SIZES) {
  const side = Math.round(Math.sqrt(n));
  const torus = buildTopology('torus', side * side, spec, { dims: [side, side] });
  const adj = gossipNeighbours(torus)!;
  const payload = new Uint8Array(40_000);
  const gossip: Record<string, number> = {};
  for (const unit of [false, true]) {
    const eps = endpoints(torus, unit);
    const ex = eps.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!));
    gossip[unit ? 'unit' : 'message'] = await cpuPerRound(eps, (ep) => ex[ep.rank]!.exchange(payload));
  }
  const sw = buildTopology('switch', n, spec);
  const gather: Record<string, number> = {};
  for (const unit of [false, true]) {
    const eps = endpoints(sw, unit);
    gather[unit ? 'unit' : 'message'] = await cpuPerRound(eps, (ep) => allGather(ep, new Uint8Array(1000 + 10 * ep.rank)));
  }
  rows.push({
    workers: side * side,
    gossipRoundCpuSec: gossip,
    gossipRatio: gossip['unit']! / gossip['message']!,
    ringAllGatherWorkers: n,
    allGatherCpuSec: gather,
    allGatherRatio: gather['unit']! / gather['message']!,
  });
}

writeResult('message-units', { rounds: ROUNDS, rows });
