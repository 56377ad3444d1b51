// What timing message collectives as units costs (max-min on cut-through topologies): CPU
// seconds per gossip round (D-PSGD's neighbour exchange on a square torus) and per ring
// all-gather of variable payloads (a switch), message by message (the link model) against timed
// as a unit (entry stamps on the process's board + one timing per process), every rank in this
// process, measured in the same run; and the heap in use after the rounds (MB). The all-gather runs
// twice: the same sizes every step (a top-k payload) and sizes that change every step (a
// threshold compressor: every step a new schedule). `node --import tsx bench/message-units.ts [16,64,256] [rounds] [gossip,gather,schedules]`
import { allGather, configureCollectives } from '../comm/collectives/configured.ts';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { NeighbourExchange } from '../optimizers/common/gossip-exchange.ts';
import { unitTiming } from '../src/runtime/collective-setup.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { timeSchedule } from '../src/sim/collective-time.ts';
import { ringAllGatherSized } from '../comm/collectives/schedules/sized.ts';
import { buildTopology, type Topology } from '../topologies/index.ts';
import { gossipNeighbours } from '../topologies/neighbours.ts';
import { writeResult } from './bench-io.ts';

const SIZES = (process.argv[2] ?? '16,64,256').split(',').map(Number);
const ROUNDS = Number(process.argv[3] ?? 5);
/** Which measurements: gossip, gather (both all-gathers, message by message and as units), schedules. */
const PARTS = new Set((process.argv[4] ?? 'gossip,gather,schedules').split(','));
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
async function cpuPerRound(eps: Endpoint[], exchange: (ep: Endpoint, k: number) => Promise<unknown>): Promise<{ cpuSec: number; heapMB: number }> {
  let k = 0;
  const round = (ep: Endpoint) => {
    ep.now += 0.01;
    return exchange(ep, k);
  };
  await Promise.all(eps.map(round));
  const t: number[] = [];
  let heap = 0;
  for (k = 1; k <= ROUNDS; k++) {
    const c0 = process.cpuUsage();
    await Promise.all(eps.map(round));
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1e6);
    heap = Math.max(heap, process.memoryUsage().heapUsed / 1e6);
  }
  return { cpuSec: t.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!, heapMB: Math.round(heap) };
}

const rows: Record<string, unknown>[] = [];
for (const n of SIZES) {
  const side = Math.round(Math.sqrt(n));
  const torus = buildTopology('torus', side * side, spec, { dims: [side, side] });
  const adj = gossipNeighbours(torus)!;
  const payload = new Uint8Array(40_000);
  const gossip: Record<string, { cpuSec: number; heapMB: number }> = {};
  for (const unit of PARTS.has('gossip') ? [false, true] : []) {
    const eps = endpoints(torus, unit);
    const ex = eps.map((ep) => new NeighbourExchange(ep, adj[ep.rank]!, adj));
    gossip[unit ? 'unit' : 'message'] = await cpuPerRound(eps, (ep) => ex[ep.rank]!.exchange(payload));
  }
  const sw = buildTopology('switch', n, spec);
  const gather: Record<string, { cpuSec: number; heapMB: number }> = {};
  const changing: Record<string, { cpuSec: number; heapMB: number }> = {};
  // Every rank ends up holding all n payloads: beyond 256 ranks they are smaller, so that the n^2
  // copies fit in memory (1024 ranks: about 150 MB).
  const size = (r: number) => (n <= 256 ? 1000 + 10 * r : 100 + (r % 100));
  for (const unit of PARTS.has('gather') ? [false, true] : []) {
    const eps = endpoints(sw, unit);
    gather[unit ? 'unit' : 'message'] = await cpuPerRound(eps, (ep) => allGather(ep, new Uint8Array(size(ep.rank))));
    changing[unit ? 'unit' : 'message'] = await cpuPerRound(endpoints(sw, unit), (ep, k) => allGather(ep, new Uint8Array(size(ep.rank) + k)));
  }
  // What one process does per ring all-gather timed as a unit whose sizes changed (a threshold
  // compressor): build the sized schedule and time it; 8 in a row, and the heap they leave.
  let schedules: Record<string, number> | null = null;
  if (PARTS.has('schedules')) {
    const heap0 = process.memoryUsage().heapUsed;
    const c0 = process.cpuUsage();
    for (let k = 0; k < 8; k++) timeSchedule(sw, ringAllGatherSized(Array.from({ length: n }, (_, r) => 1000 + 10 * r + k)), 0, 'max-min');
    const c = process.cpuUsage(c0);
    schedules = { builtAndTimed: 8, cpuSec: (c.user + c.system) / 1e6, heapGrowthMB: Math.round((process.memoryUsage().heapUsed - heap0) / 1e6) };
  }
  const ratio = (x: Record<string, { cpuSec: number }>) => (x['unit'] && x['message'] ? x['unit'].cpuSec / x['message'].cpuSec : null);
  rows.push({
    workers: side * side,
    gossipRound: gossip,
    gossipRatio: ratio(gossip),
    ringAllGatherWorkers: n,
    allGather: gather,
    allGatherRatio: ratio(gather),
    allGatherChangingSizes: changing,
    allGatherChangingRatio: ratio(changing),
    ringAllGatherSchedules: schedules,
  });
}

writeResult('message-units', { rounds: ROUNDS, rows });
