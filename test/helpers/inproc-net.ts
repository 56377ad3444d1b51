import { Endpoint } from '../../comm/endpoint.ts';
import { InprocRouter } from '../../comm/transport/inproc-router.ts';
import { NetworkModel } from '../../src/sim/network-model.ts';
import { buildTopology, type TopologyKind } from '../../topologies/index.ts';

/** n worker endpoints (plus a server endpoint for star) wired through one in-process router. */
export function inprocNet(n: number, kind: TopologyKind = 'ring', bandwidth = 1e9, latency = 50e-6) {
  const topo = buildTopology(kind, n, { bandwidth, latency });
  const router = new InprocRouter();
  const eps = Array.from({ length: n }, (_, r) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo));
    router.attach(ep);
    return ep;
  });
  let server: Endpoint | null = null;
  if (topo.hasServer) {
    server = new Endpoint(n, n, router, new NetworkModel(topo));
    router.attach(server);
  }
  return { eps, server, router };
}
