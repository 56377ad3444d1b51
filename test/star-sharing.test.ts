import { describe, expect, it } from 'vitest';
import { Endpoint } from '../comm/endpoint.ts';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { psAllReduce, psServe } from '../comm/collectives/parameter-server.ts';
import { receivePushes } from '../comm/collectives/server-ingress.ts';
import { admitPush, pushAndAwaitReply } from '../comm/collectives/push-pull.ts';
import { applyPushesInVirtualTimeOrder } from '../optimizers/common/async-pushes.ts';
import { SharedPortQueue } from '../src/sim/shared-port.ts';
import type { Sharing } from '../src/sim/flow-sim.ts';
import { FaultSchedule, type Fault } from '../src/sim/faults.ts';
import { NetworkModel } from '../src/sim/network-model.ts';
import { starTopology } from '../topologies/star.ts';
import type { LinkTrace } from '../topologies/trace.ts';

/**
 * The star's shared server port under max-min sharing: a round's pushes share the ingress, its
 * replies share the egress, each max-min fairly (one link: equal shares), recomputed whenever a
 * transfer starts or ends. fifo keeps first come first served (test/virtual-time.test.ts).
 */
const B = 1e9;
const a = 50e-6;

function rel(got: number, want: number): number {
  return Math.abs(got - want) / Math.max(1, Math.abs(want));
}

/** n workers and the server (rank n), each endpoint with its own model (the most split packing). */
function star(n: number, sharing: Sharing, faults: Fault[] = [], traces: Record<string, LinkTrace> = {}) {
  const topo = starTopology(n, { bandwidth: B, latency: a });
  for (const l of topo.links) if (traces[l.id]) l.trace = traces[l.id];
  const router = new InprocRouter();
  const make = (r: number) => {
    const ep = new Endpoint(r, n, router, new NetworkModel(topo, new FaultSchedule(faults), sharing));
    router.attach(ep);
    return ep;
  };
  const eps = Array.from({ length: n }, (_, r) => make(r));
  return { eps, server: make(n) };
}

/** Push `bytes[r]` from each worker at `at[r]` (wall-clock order `order`), time them at the server. */
async function pushes(n: number, sharing: Sharing, at: number[], bytes: number[], accept?: (k: number, arrival: number, taken: number[]) => boolean, order?: number[]) {
  const { eps, server } = star(n, sharing);
  const got = receivePushes(server, eps.map((_, r) => r), 7, accept);
  for (const r of order ?? eps.map((_, r) => r)) {
    eps[r]!.now = at[r]!;
    eps[r]!.send(n, 7, 0, new Uint8Array(bytes[r]!));
    await new Promise((res) => setTimeout(res, 0));
  }
  return (await got)!;
}

describe('star server port under max-min sharing', () => {
  it('n workers sending m bytes each into the shared port all arrive at a + 8nm/B', async () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const m = 12500;
      const got = await pushes(n, 'max-min', new Array(n).fill(0), new Array(n).fill(m));
      for (const p of got) expect(rel(p.at, a + (8 * n * m) / B)).toBeLessThan(1e-12);
      // fifo: the k-th in send order at a + 8(k+1)m/B.
      const fifo = await pushes(n, 'fifo', new Array(n).fill(0), new Array(n).fill(m));
      fifo.forEach((p, k) => expect(rel(p.at, a + (8 * (k + 1) * m) / B)).toBeLessThan(1e-12));
    }
  });

  it('a push that starts while another is half done ends when max-min says', async () => {
    const m = 1e5;
    const T = (8 * m) / B;
    // The first sends alone for T/2, then both share B: the first ends at 1.5T, the second has
    // m/2 left then and ends alone at 2T.
    const got = await pushes(2, 'max-min', [0, T / 2], [m, m]);
    expect(rel(got[0]!.at, 1.5 * T + a)).toBeLessThan(1e-12);
    expect(rel(got[1]!.at, 2 * T + a)).toBeLessThan(1e-12);
    // Unequal sizes: a short push started later overtakes a long one (m/4 at T/2: 2 x T/4 at B/2).
    const short = await pushes(2, 'max-min', [0, T / 2], [m, m / 4]);
    expect(rel(short[1]!.at, T + a)).toBeLessThan(1e-12);
    expect(rel(short[0]!.at, 1.25 * T + a)).toBeLessThan(1e-12);
  });

  it('the result does not depend on the wall-clock order in which pushes come in', async () => {
    const at = [3e-5, 0, 1e-5, 2e-5, 0];
    const bytes = [1000, 4000, 2500, 4000, 100];
    const first = await pushes(5, 'max-min', at, bytes, undefined, [0, 1, 2, 3, 4]);
    for (const order of [[4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
      const again = await pushes(5, 'max-min', at, bytes, undefined, order);
      expect(again.map((p) => p.at)).toEqual(first.map((p) => p.at));
    }
  });

  it('a master that takes the first k pushes sees them in arrival order; the others leave the port', async () => {
    const m = 1e5;
    const T = (8 * m) / B;
    // Three equal pushes at 0 and a small late one: rates B/3 each until the late one joins.
    // Taking the first 2 of 4 in arrival order: the small one (sent at 2T, 0.3T alone at B/4).
    const at = [0, 0, 0, 2 * T];
    const bytes = [m, m, m, m / 10];
    const got = await pushes(4, 'max-min', at, bytes, (k) => k < 2);
    // 0..2T: three at B/3 -> 2/3 m each sent; then four at B/4: the small one (0.8T bits) needs
    // 0.4T... by hand: remaining big = T/3 each (in time at full B), small = T/10. Shares B/4:
    // small ends after 4 x T/10 = 0.4T, when each big has T/3 - 0.1T left; then 3 at B/3: 3 x (7T/30) = 0.7T.
    expect(rel(got[3]!.at, 2.4 * T + a)).toBeLessThan(1e-12);
    for (const r of [0, 1, 2]) expect(rel(got[r]!.at, 3.1 * T + a)).toBeLessThan(1e-12);
    expect(got.map((p) => p.used)).toEqual([true, false, false, true]);
  });

  it('a synchronous round of M bytes takes exactly 2(a + nM/B) for every worker (replies share the egress)', async () => {
    for (const n of [2, 3, 6]) {
      const len = 2500;
      const M = 4 * len;
      for (const sharing of ['max-min', 'fifo'] as const) {
        const { eps, server } = star(n, sharing);
        const serving = psServe(server);
        const data = eps.map(() => new Float32Array(len).fill(1));
        await Promise.all(eps.map((ep, r) => psAllReduce(ep, data[r]!)));
        server.fail(new Error('done'));
        await serving;
        const round = 2 * (a + (8 * n * M) / B);
        if (sharing === 'max-min') for (const ep of eps) expect(rel(ep.now, round)).toBeLessThan(1e-12);
        // fifo: the replies leave one after the other, rank r's at a + 8nM/B + a + 8(r+1)M/B.
        else eps.forEach((ep, r) => expect(rel(ep.now, 2 * a + (8 * (n + r + 1) * M) / B)).toBeLessThan(1e-12));
        expect(data[n - 1]![0]).toBe(n);
      }
    }
  });

  it('a link fault on server-in during a round changes the pushes\' rate at its start and end', async () => {
    const n = 2;
    const m = 1e5;
    const T = (8 * m) / B;
    // Both at B/2 until T (each has m/2 left), then the port runs at B/4 until 2T (m/8 each more),
    // then B again: 3m/8 each = 0.75T at B/2. Arrival 2.75T + a (the fault's latency is over by then).
    const { eps, server } = star(n, 'max-min', [{ kind: 'link', link: 'server-in', bandwidth: B / 4, latency: 1, at: T, for: T }]);
    const got = receivePushes(server, [0, 1], 7);
    for (const ep of eps) ep.send(n, 7, 0, new Uint8Array(m));
    for (const p of (await got)!) expect(rel(p.at, 2.75 * T + a)).toBeLessThan(1e-12);
  });
});

/**
 * Each worker pushes once at `at[r]` (in wall-clock order `order`) and gets a reply of
 * `replyBytes` bytes; returns [worker, master clock] per applied push, with `arrivals[r]`, when
 * worker r's reply arrived (its clock).
 */
async function asyncRound(at: number[], bytes: number[], order: number[], sharing: Sharing = 'max-min', replyBytes = 4, faults: Fault[] = [], traces: Record<string, LinkTrace> = {}) {
  const n = at.length;
  const { eps, server } = star(n, sharing, faults, traces);
  const applied: [number, number][] & { arrivals?: number[] } = [];
  const master = applyPushesInVirtualTimeOrder(server, 'async-test', new Array(n).fill(1), (w, msg) => {
    admitPush(server, w, msg);
    applied.push([w, server.now]);
    return new Uint8Array(replyBytes);
  }, 'test master');
  const replies: Promise<unknown>[] = [];
  for (const r of order) {
    eps[r]!.now = at[r]!;
    replies.push(pushAndAwaitReply(eps[r]!, 'async-test', new Uint8Array(bytes[r]!)));
    await new Promise((res) => setTimeout(res, 0));
  }
  await master;
  await Promise.all(replies);
  applied.arrivals = eps.map((ep) => ep.now);
  return applied as [number, number][] & { arrivals: number[] };
}

describe('asynchronous pushes on the max-min ingress', () => {
  const m = 1e5;
  const T = (8 * m) / B;


  it('a push that starts while another is half done: applied at 1.5T + a and 2T + a, in any wall-clock order', async () => {
    for (const order of [[0, 1], [1, 0]]) {
      const got = await asyncRound([0, T / 2], [m, m], order);
      expect(got.map(([w]) => w)).toEqual([0, 1]);
      expect(rel(got[0]![1], 1.5 * T + a)).toBeLessThan(1e-12);
      expect(rel(got[1]![1], 2 * T + a)).toBeLessThan(1e-12);
    }
    // fifo: the first at T + a, the second queued behind it.
    const fifo = await asyncRound([0, T / 2], [m, m], [1, 0], 'fifo');
    expect(fifo.map(([, t]) => t)).toEqual([T + a, 2 * T + a]);
  });

  it('a short push sent later completes first and is applied first', async () => {
    const got = await asyncRound([0, T / 2], [m, m / 4], [0, 1]);
    expect(got.map(([w]) => w)).toEqual([1, 0]);
    expect(rel(got[0]![1], T + a)).toBeLessThan(1e-12);
    expect(rel(got[1]![1], 1.25 * T + a)).toBeLessThan(1e-12);
  });

  it('the port alone: n equal transfers at once end together at 8nm/B; a bandwidth change mid-way', () => {
    for (const n of [1, 3, 7]) {
      const q = new SharedPortQueue({ bandwidthAt: () => B, nextChange: () => Infinity, latencyAt: () => a });
      for (let r = n - 1; r >= 0; r--) q.add(r, 1, m, 0);
      for (let r = 0; r < n; r++) {
        const c = q.commit()!;
        expect(c.from).toBe(r); // ties by sender
        expect(rel(c.end, n * T)).toBeLessThan(1e-12);
        expect(c.arrival).toBe(c.end + a);
      }
      expect(q.peek()).toBeNull();
    }
    // A partition cuts worker 0 off over [T/2, 5T/2]: until T/2 both at B/2 (m/4 each sent);
    // worker 1 then alone at B (3T/4 more: 1.25T); worker 0 resumes at 5T/2 with 3m/4 left: 3.25T.
    const cut = new SharedPortQueue({ bandwidthAt: () => B, nextChange: (t) => [T / 2, 2.5 * T].find((c) => c > t) ?? Infinity, latencyAt: () => 0, blocked: (w, t) => w === 0 && t >= T / 2 && t < 2.5 * T });
    cut.add(0, 1, m, 0);
    cut.add(1, 1, m, 0);
    const c1 = cut.commit()!;
    expect([c1.from, rel(c1.end, 1.25 * T) < 1e-12]).toEqual([1, true]);
    expect(rel(cut.commit()!.end, 3.25 * T)).toBeLessThan(1e-12);
    // B until T/2, then B/2: one transfer has m/2 left at T/2, taking T at B/2.
    const q = new SharedPortQueue({ bandwidthAt: (t) => (t < T / 2 ? B : B / 2), nextChange: (t) => (t < T / 2 ? T / 2 : Infinity), latencyAt: () => 0 });
    q.add(0, 1, m, 0);
    expect(rel(q.peek()!.end, 1.5 * T)).toBeLessThan(1e-12);
  });
});

describe('asynchronous replies on the max-min egress', () => {
  const m = 1e5;
  const T = (8 * m) / B;

  it('two replies of m bytes leaving together both arrive a + 2 x 8m/B later (fifo: one after the other)', async () => {
    // Empty pushes sent at 0 arrive at a; the replies leave together then.
    for (const order of [[0, 1], [1, 0]]) {
      const got = await asyncRound([0, 0], [0, 0], order, 'max-min', m);
      for (const r of [0, 1]) expect(rel(got.arrivals[r]!, a + 2 * T + a)).toBeLessThan(1e-12);
      const fifo = await asyncRound([0, 0], [0, 0], order, 'fifo', m);
      expect(fifo.arrivals).toEqual([a + T + a, a + 2 * T + a]);
    }
  });

  it('a reply that leaves while another is half done: the first arrives 1.5T + a after it left, the second 2T + a', async () => {
    // Pushes of m/4 at 0 and T/2 (no overlap) arrive at T/4 + a and 3T/4 + a: the replies leave
    // T/2 apart. The first sends alone for T/2, then both at B/2: it ends 1.5T after it left, the
    // second (m/2 left then) 0.5T later, alone.
    const s0 = T / 4 + a;
    for (const order of [[0, 1], [1, 0]]) {
      const got = await asyncRound([0, T / 2], [m / 4, m / 4], order, 'max-min', m);
      expect(got.map(([w]) => w)).toEqual([0, 1]);
      expect(rel(got.arrivals[0]!, s0 + 1.5 * T + a)).toBeLessThan(1e-12);
      expect(rel(got.arrivals[1]!, s0 + 2 * T + a)).toBeLessThan(1e-12);
    }
    // fifo: the first alone (s0 + T + a), the second queued behind it (s0 + 2T + a).
    const fifo = await asyncRound([0, T / 2], [m / 4, m / 4], [1, 0], 'fifo', m);
    expect(rel(fifo.arrivals[0]!, s0 + T + a)).toBeLessThan(1e-12);
    expect(rel(fifo.arrivals[1]!, s0 + 2 * T + a)).toBeLessThan(1e-12);
  });

  it('a link fault on server-out, a partition and a trace act on the replies as on the ingress', async () => {
    // Replies leave at a. Fault from a + T for T at B/4: both at B/2 until a + T (m/2 left each),
    // B/8 each for T (m/8 each), then 3m/8 each at B/2: end a + 2.75T (the fault's latency is over).
    const fault: Fault = { kind: 'link', link: 'server-out', bandwidth: B / 4, latency: 1, at: a + T, for: T };
    const got = await asyncRound([0, 0], [0, 0], [0, 1], 'max-min', m, [fault]);
    for (const r of [0, 1]) expect(rel(got.arrivals[r]!, a + 2.75 * T + a)).toBeLessThan(1e-12);
    // Worker 0 cut off over [a + T/2, a + 5T/2]: both at B/2 until a + T/2 (m/4 each), worker 1
    // then alone at B (3T/4: ends a + 1.25T), worker 0 resumes at a + 2.5T with 3m/4: a + 3.25T.
    const cut: Fault = { kind: 'partition', workers: [0], at: a + T / 2, for: 2 * T };
    const part = await asyncRound([0, 0], [0, 0], [1, 0], 'max-min', m, [cut]);
    expect(rel(part.arrivals[1]!, a + 1.25 * T + a)).toBeLessThan(1e-12);
    expect(rel(part.arrivals[0]!, a + 3.25 * T + a)).toBeLessThan(1e-12);
    // A trace halves server-out from a + T and doubles its latency: m/2 left each at B/4 each
    // takes 2T more, so both end at a + 3T and arrive 2a later.
    const trace: LinkTrace = { times: [a + T], bandwidth: [B / 2], latency: [2 * a] };
    const traced = await asyncRound([0, 0], [0, 0], [1, 0], 'max-min', m, [], { 'server-out': trace });
    for (const r of [0, 1]) expect(rel(traced.arrivals[r]!, a + 3 * T + 2 * a)).toBeLessThan(1e-12);
  });
});

/**
 * An omniscient reference for the asynchronous master on the max-min star: one global event
 * simulation that knows every worker's schedule in advance (worker r's first push at start[r],
 * each later one gap[r][k] after its previous reply arrived), both ports sharing equally among
 * their started transfers, the master applying pushes in the order they complete on the ingress,
 * each reply leaving at the master's clock then. Returns each worker's reply arrivals.
 */
function omniscient(start: number[], gap: number[][], push: number[][], replyBytes: number[][]): number[][] {
  const n = start.length;
  type Flow = { w: number; k: number; left: number; start: number };
  const ports = [[], []] as Flow[][]; // 0: ingress, 1: egress
  const arrivals: number[][] = start.map(() => []);
  let now = 0;
  let master = 0;
  start.forEach((s, w) => ports[0]!.push({ w, k: 0, left: 8 * push[w]![0]!, start: s }));
  for (;;) {
    // The next event: a transfer starts or one completes (at the port's equal share).
    let next = Infinity;
    for (const port of ports) {
      const active = port.filter((f) => f.start <= now);
      for (const f of port) if (f.start > now) next = Math.min(next, f.start);
      for (const f of active) next = Math.min(next, now + (f.left * active.length) / B);
    }
    if (next === Infinity) return arrivals;
    const done: [number, Flow][] = [];
    ports.forEach((port, p) => {
      const active = port.filter((f) => f.start <= now);
      for (const f of active) {
        f.left -= ((next - now) * B) / active.length;
        if (Math.abs(f.left) <= 1e-9 * 8 * 1e5) done.push([p, f]);
      }
    });
    now = next;
    done.sort((x, y) => x[1].w - y[1].w);
    for (const [p, f] of done) {
      ports[p]!.splice(ports[p]!.indexOf(f), 1);
      if (p === 0) {
        master = Math.max(master, now + a);
        ports[1]!.push({ w: f.w, k: f.k, left: 8 * replyBytes[f.w]![f.k]!, start: master });
      } else {
        arrivals[f.w]!.push(now + a);
        if (f.k + 1 < push[f.w]!.length) ports[0]!.push({ w: f.w, k: f.k + 1, left: 8 * push[f.w]![f.k + 1]!, start: now + a + gap[f.w]![f.k + 1]! });
      }
    }
  }
}

describe('asynchronous master on the max-min star against an omniscient simulation', () => {
  const m = 1e5;
  const T = (8 * m) / B;

  it('every reply arrives when the global simulation says, whatever the wall-clock order (n = 2..5, up to 4 pushes each)', async () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const [n, K] of [[2, 3], [3, 2], [3, 4], [4, 3], [5, 2]] as const) {
      const start = Array.from({ length: n }, () => rand() * 3 * T);
      const gap = Array.from({ length: n }, () => Array.from({ length: K }, () => rand() * 2 * T));
      const push = Array.from({ length: n }, () => Array.from({ length: K }, () => Math.round(m * (0.1 + 0.9 * rand()))));
      const replyBytes = Array.from({ length: n }, () => Array.from({ length: K }, () => Math.round(m * (0.5 + 1.5 * rand()))));
      const want = omniscient(start, gap, push, replyBytes);
      for (let trial = 0; trial < 2; trial++) {
        const { eps, server } = star(n, 'max-min');
        const master = applyPushesInVirtualTimeOrder(server, 'omni', new Array(n).fill(K), (w, msg, k) => {
          admitPush(server, w, msg);
          return new Uint8Array(replyBytes[w]![k - 1]!);
        }, 'test master');
        // Workers push in a wall-clock order unrelated to virtual time (random waits).
        const got = await Promise.all(eps.map(async (ep, w) => {
          const out: number[] = [];
          for (let k = 0; k < K; k++) {
            ep.now = k === 0 ? start[w]! : ep.now + gap[w]![k]!;
            await new Promise((res) => setTimeout(res, Math.floor(rand() * 3)));
            await pushAndAwaitReply(ep, 'omni', new Uint8Array(push[w]![k]!));
            out.push(ep.now);
          }
          return out;
        }));
        await master;
        got.forEach((row, w) => row.forEach((t, k) => expect({ w, k, rel: rel(t, want[w]![k]!) < 1e-9 }).toEqual({ w, k, rel: true })));
      }
    }
  });
});
