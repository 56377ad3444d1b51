import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { UserError } from '../src/util/user-error.ts';
import { generateEdges } from '../topologies/graph.ts';
import { buildTopology } from '../topologies/index.ts';
import { dtemu, tmp } from './helpers/cli.ts';

const HEAD = `workers: 8
data: { dataset: blobs }
model: { kind: logistic }
optimizer: { kind: allreduce-sgd }
`;
const spec = { bandwidth: 1e9, latency: 1e-3 };

describe('topologies as data', () => {
  it('switch: a message takes a + 8m/B; incast shares the receiver NIC only under max-min', () => {
    const t = buildTopology('switch', 4, spec);
    expect(t.route(1, 3).map((l) => l.id)).toEqual(['up-1', 'down-3']);
    expect(new NetworkModel(t).transmit(1, 3, 1000, 2)).toBe(2 + 8000 / 1e9 + 1e-3);
  });

  it('tree: k-ary switches, uplinks carry (workers below) x B / oversubscription, routes meet at the lowest common switch', () => {
    const t = buildTopology('tree', 16, spec, { arity: 4, oversubscription: 8 });
    const up = t.links.find((l) => l.id === 's0->s4')!;
    expect(up.bandwidth).toBe((4 * 1e9) / 8);
    expect(t.route(0, 1).map((l) => l.id)).toEqual(['0->s0', 's0->1']);
    expect(t.route(0, 15).map((l) => l.id)).toEqual(['0->s0', 's0->s4', 's4->s3', 's3->15']);
    // Cut-through: the 0.5 Gb/s uplinks are the bottleneck; a/2 on each of the four links.
    const arrival = new NetworkModel(t).transmit(0, 15, 1e6, 0);
    expect(arrival).toBeCloseTo(8e6 / 0.5e9 + 4 * 0.5e-3, 15);
  });

  it('torus: wrap-around links, dimension-ordered shortest routes', () => {
    const t = buildTopology('torus', 16, spec, { dims: [4, 4] });
    expect(t.links).toHaveLength(16 * 4);
    expect(t.route(0, 3).map((l) => l.id)).toEqual(['0->3']); // wraps
    expect(t.route(0, 10).map((l) => l.id)).toEqual(['0->1', '1->2', '2->6', '6->10']);
    const t3 = buildTopology('torus', 27, spec, { dims: [3, 3, 3] });
    expect(t3.route(0, 26)).toHaveLength(3);
  });

  it('hierarchical: intra switch per group, WAN links between gateways', () => {
    const t = buildTopology('hierarchical', 8, spec, { groups: 2, intra: { bandwidth: 100e9, latency: 2e-6 }, inter: { bandwidth: 1e9, latency: 50e-3 } });
    expect(t.groups).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(t.route(1, 6).map((l) => l.id)).toEqual(['up-1', 'g0->g1', 'down-6']);
    expect(new NetworkModel(t).transmit(1, 2, 1000, 0)).toBeCloseTo(2e-6 + 8000 / 100e9, 18);
    expect(new NetworkModel(t).transmit(1, 6, 1000, 0)).toBeCloseTo(2e-6 + 50e-3 + 8000 / 1e9, 15);
  });

  it('generated graphs have the degrees the papers give and are a function of the seed', () => {
    expect(generateEdges(10, { kind: 'ring-lattice', k: 4 })).toHaveLength(20);
    expect(generateEdges(12, { kind: 'grid', dims: [4, 3] })).toHaveLength(3 * 3 + 4 * 2);
    expect(generateEdges(8, { kind: 'exponential' })).toHaveLength(8 + 8 + 4); // +1, +2, +4 (i+4 = i-4)
    const a = generateEdges(30, { kind: 'erdos-renyi', p: 0.3, seed: 1 });
    expect(generateEdges(30, { kind: 'erdos-renyi', p: 0.3, seed: 1 })).toEqual(a);
    expect(generateEdges(30, { kind: 'erdos-renyi', p: 0.3, seed: 2 })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(0.2 * 435);
    expect(a.length).toBeLessThan(0.4 * 435);
  });

  it('per-node and per-link overrides; the star server port and shared: false', () => {
    const t = buildTopology('switch', 4, spec, { nodes: { '2': { bandwidth: 10e6, latency: 40e-3 } }, links: { 'down-0': { bandwidth: 5e8 } } });
    expect(new NetworkModel(t).transmit(2, 1, 1000, 0)).toBeCloseTo(20e-3 + 0.5e-3 + 8000 / 10e6, 15);
    expect(t.links.find((l) => l.id === 'down-0')!.bandwidth).toBe(5e8);
    const star = buildTopology('star', 4, spec, { server: { bandwidth: 1e10 }, shared: false });
    expect(star.route(1, 4).map((l) => [l.id, l.bandwidth, l.shared])).toEqual([['server-in-1', 1e10, false]]);
    const ring = buildTopology('ring', 4, spec, { nodes: { '1': { bandwidth: 1e6 } } });
    expect(ring.links.filter((l) => l.bandwidth === 1e6).map((l) => l.id).sort()).toEqual(['0->1', '1->0', '1->2', '2->1']);
  });
});

/** [name, topology/network YAML, "line:col", key, fragment]. */
const BAD: [string, string, string, string, string][] = [
  ['override naming an unknown node', 'topology: { kind: switch }\nnetwork: { nodes: { 12: { bandwidth: 10 Mb/s } } }\n', '6:19', 'network.nodes.12', 'expected a node rank 0..7'],
  ['override naming an unknown link', 'topology: { kind: switch }\nnetwork: { links: { up-9: { bandwidth: 10 Mb/s } } }\n', '6:27', 'network.links.up-9', 'expected a link of this switch'],
  ['override with a bad quantity', 'network: { nodes: { 1: { bandwidth: fast } } }\n', '5:19', 'network.nodes.1.bandwidth', 'bandwidth with units'],
  ['self-loop', 'topology: { kind: graph, links: [[0, 1], [3, 3]] }\n', '5:42', 'topology.links.1', 'self-loop on 3'],
  ['unknown node in a link', 'topology: { kind: graph, links: [[0, 9]] }\n', '5:34', 'topology.links.0', 'expected node ranks 0..7, found 9'],
  ['disconnected graph', 'topology: { kind: graph, links: [[0, 1], [2, 3]] }\n', '5:33', 'topology.links', 'expected a connected graph, found 6 of 8 nodes unreachable'],
  ['disconnected random graph', 'topology: { kind: graph, generate: { kind: erdos-renyi, p: 0.01 } }\n', '5:36', 'topology.generate', 'connected graph'],
  ['groups that do not add up', 'topology: { kind: hierarchical, groups: [3, 4] }\n', '5:41', 'topology.groups', 'adding up to workers (8), found 3 + 4 = 7'],
  ['groups that do not divide', 'topology: { kind: hierarchical, groups: 3 }\n', '5:41', 'topology.groups', 'divides workers (8)'],
  ['torus of the wrong size', 'topology: { kind: torus, dims: [3, 3] }\n', '5:32', 'topology.dims', 'product is workers (8), found 3 x 3 = 9'],
  ['torus without dims', 'topology: { kind: torus }\n', '5:11', 'topology.dims', 'expected dims'],
  ['hierarchical collective on a switch', 'topology: { kind: switch, collective: hierarchical }\n', '5:39', 'topology.collective', 'expected topology hierarchical'],
  ['2d-ring on a 3-D torus', 'topology: { kind: torus, dims: [2, 2, 2], collective: 2d-ring }\n', '5:55', 'topology.collective', 'expected a 2-D torus for 2d-ring, found torus with 3'],
  ['a collective on a star', 'topology: { kind: star, collective: tree }\n', '5:37', 'topology.collective', 'expected ring on a star'],
  ['a link fault naming a link the switch does not have', 'topology: { kind: switch, collective: tree }\nfaults: [{ kind: link, link: server-in, at: 1 s, bandwidth: 1 Mb/s }]\n', '6:30', 'faults.0.link', 'expected one of up-0, up-1'],
  ['a key the kind does not read', 'topology: { kind: switch, groups: 2 }\n', '5:35', 'topology.groups', 'expected groups only for topology hierarchical, found it on a switch'],
  ['odd ring-lattice degree', 'topology: { kind: graph, generate: { kind: ring-lattice, k: 3 } }\n', '5:61', 'topology.generate.k', 'expected an even degree'],
];

describe('bad topology input: one located line', () => {
  for (const [name, yaml, where, key, fragment] of BAD) {
    it(name, () => {
      let err: unknown = null;
      try {
        loadConfigText('exp.yaml', HEAD + yaml);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      const msg = (err as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg.startsWith(`exp.yaml:${where}: ${key}:`), msg).toBe(true);
      expect(msg).toContain(fragment);
    });
  }

  it('a links file is read and located by file and line; the CLI exits 2 and writes nothing', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'links.csv'), 'a,b,bandwidth,latency\n0,1,1 Gb/s,1 ms\n1,2\n2,2\n');
    writeFileSync(join(dir, 'exp.yaml'), HEAD.replace('workers: 8', 'workers: 3') + 'topology: { kind: graph, file: links.csv }\n');
    mkdirSync(join(dir, 'runs'));
    const r = dtemu(['run', join(dir, 'exp.yaml'), '--out', join(dir, 'runs', 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${join(dir, 'links.csv')}:4: topology.file: expected a link between two different nodes, found a self-loop on 2`);
    expect(readdirSync(join(dir, 'runs'))).toEqual([]);
    expect(existsSync(join(dir, 'runs', 'x'))).toBe(false);
    writeFileSync(join(dir, 'links.csv'), '0,1,1 Gb/s,1 ms\n1,2,100 Mb/s\n');
    const lc = loadConfigText(join(dir, 'exp.yaml'), HEAD.replace('workers: 8', 'workers: 3') + 'topology: { kind: graph, file: links.csv }\n');
    const t = buildTopology('graph', 3, spec, lc.topology);
    expect(t.route(0, 2).map((l) => [l.id, l.bandwidth, l.latency])).toEqual([['0->1', 1e9, 1e-3], ['1->2', 1e8, 1e-3]]);
  });

  it('bandwidth traces: read, attached to a link or a node; times out of order or a negative bandwidth are located', () => {
    const dir = tmp();
    const yaml = (file: string) => HEAD + `topology: { kind: switch }\nnetwork: { traces: [{ node: 2, file: ${file} }, { link: down-0, file: ${file} }] }\n`;
    writeFileSync(join(dir, 'ok.csv'), 'time,bandwidth,latency\n0 s,1 Gb/s\n10 s,10 Mb/s,20 ms\n12,1e9\n');
    const lc = loadConfigText(join(dir, 'exp.yaml'), yaml('ok.csv'));
    const t = buildTopology('switch', 8, spec, lc.topology);
    expect(t.links.find((l) => l.id === 'up-2')!.trace).toEqual({ times: [0, 10, 12], bandwidth: [1e9, 1e7, 1e9], latency: [null, 10e-3, null] });
    expect(t.links.find((l) => l.id === 'down-0')!.trace!.latency).toEqual([null, 20e-3, null]);
    for (const [body, line, fragment] of [
      ['0,1 Gb/s\n5,1 Gb/s\n4,1 Gb/s\n', 3, 'expected times in increasing order (after 5 s), found 4 s'],
      ['0,1 Gb/s\n5,-10 Mb/s\n', 2, 'bandwidth: expected a non-negative bandwidth'],
      ['0,1 Gb/s\n5,-3\n', 2, 'expected a positive bandwidth'],
    ] as const) {
      writeFileSync(join(dir, 'bad.csv'), body);
      let msg = '';
      try {
        loadConfigText(join(dir, 'exp.yaml'), yaml('bad.csv'));
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        msg = (e as Error).message;
      }
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg.startsWith(`${join(dir, 'bad.csv')}:${line}: network.traces: `), msg).toBe(true);
      expect(msg).toContain(fragment);
    }
    expect(() => loadConfigText(join(dir, 'exp.yaml'), HEAD + 'topology: { kind: switch }\nnetwork: { traces: [{ link: up-99, file: ok.csv }] }\n')).toThrow(/network.traces.0.link: expected a link of this switch/);
  });
});

describe('star server port', () => {
  it('shared: false gives each worker its own port: a push/pull round takes 2(a + 8M/B); shared: 2(a + 8nM/B)', async () => {
    const { Endpoint } = await import('../comm/endpoint.ts');
    const { InprocRouter } = await import('../comm/transport/inproc-router.ts');
    const { psAllReduce, psServeRound } = await import('../comm/collectives/parameter-server.ts');
    const n = 4;
    const M = 4000;
    for (const shared of [false, true]) {
      const topo = buildTopology('star', n, spec, { shared });
      const router = new InprocRouter();
      const eps = Array.from({ length: n + 1 }, (_, r) => {
        const ep = new Endpoint(r, n, router, new NetworkModel(topo));
        router.attach(ep);
        return ep;
      });
      const vs = eps.slice(0, n).map(() => new Float32Array(M / 4).fill(1));
      await Promise.all([psServeRound(eps[n]!), ...eps.slice(0, n).map((ep, r) => psAllReduce(ep, vs[r]!))]);
      const want = shared ? 2 * (1e-3 + (8 * n * M) / 1e9) : 2 * (1e-3 + (8 * M) / 1e9);
      // Shared: the pushes queue on the one ingress, the replies on the one egress.
      expect(Math.max(...eps.slice(0, n).map((ep) => ep.now))).toBeCloseTo(want, 15);
      if (!shared) for (const ep of eps.slice(0, n)) expect(ep.now).toBeCloseTo(want, 15);
      expect(vs[0]![0]).toBe(n);
    }
  });
});
