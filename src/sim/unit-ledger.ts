import type { Topology } from '../../topologies/index.ts';
import type { FlowRequest, Reservation } from './flow-sim.ts';

/** Each flow's route as indices into topology.links (links not listed there are skipped): the `routeOf` a ledger entry's profile needs. */
export function flowLinkIndices(topology: Topology, flows: readonly FlowRequest[]): (flow: number) => number[] {
  const index = new Map(topology.links.map((l, i) => [l, i]));
  return (f) => topology.route(flows[f]!.from, flows[f]!.to).map((l) => index.get(l) ?? -1).filter((i) => i >= 0);
}

/**
 * What unit-timed collectives already decided still take on the links: per link, the summed rate
 * of their flows over virtual time (from the flow simulation's rate assignments).
 *
 * A decided collective's finish times have been observed by its ranks (a Streaming DiLoCo
 * fragment's arrival decided its merge), so a collective simulated later cannot slow it down
 * without changing the past: it gets the capacity the decided ones leave, and shares that
 * max-min with its own flows and with the collectives pending with it (src/sim/unit-scheduler.ts
 * decides a collective only when its result is first needed, together with every collective
 * entered by then). Every process decides the same collectives in the same order from the same
 * entry times, so every process holds the same ledger: the result is the same in any packing and
 * over ws.
 */
export class UnitLedger {
  /** Per earlier collective: when its last flow ended, and its per-link rate deltas (computed when first needed). */
  private readonly held: { end: number; deltas: { t: number; link: number; delta: number }[] | null; profile: () => { t: number; link: number; delta: number }[] }[] = [];

  /**
   * Record a collective whose flows all ended by `end`; `changes()` replays its simulation's
   * (time, flow, rate) assignments, only if a later collective overlaps it.
   */
  add(end: number, changes: () => { events: readonly { t: number; f: number; r: number }[]; routeOf: (flow: number) => ArrayLike<number> }): void {
    const profile = () => {
      const { events, routeOf } = changes();
      const rate = new Map<number, number>();
      const deltas: { t: number; link: number; delta: number }[] = [];
      for (const { t, f, r } of events) {
        const before = rate.get(f) ?? 0;
        const now = Number.isFinite(r) ? r : 0;
        rate.set(f, now);
        if (now === before) continue;
        const links = routeOf(f);
        for (let i = 0; i < links.length; i++) deltas.push({ t, link: links[i]!, delta: now - before });
      }
      return deltas;
    };
    this.held.push({ end, deltas: null, profile });
  }

  /**
   * The capacity earlier collectives take from `from` on: the absolute reserved rate of each
   * link at each change (0 once they are done). Collectives whose flows ended by `from` are
   * forgotten, so back-to-back collectives that never overlap are timed exactly as alone.
   */
  reservedFrom(from: number): Reservation[] {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i]!.end <= from) this.held.splice(i, 1);
    if (this.held.length === 0) return [];
    const all = this.held.flatMap((h) => (h.deltas ??= h.profile())).sort((x, y) => x.t - y.t || x.link - y.link);
    const level = new Map<number, number>();
    const out: Reservation[] = [];
    for (let i = 0; i < all.length; ) {
      const t = all[i]!.t;
      const touched = new Set<number>();
      for (; i < all.length && all[i]!.t === t; i++) {
        const { link, delta } = all[i]!;
        touched.add(link);
        level.set(link, (level.get(link) ?? 0) + delta);
      }
      // Rates summed from deltas leave a rounding residue where they should be 0 (bits/s).
      for (const link of [...touched].sort((x, y) => x - y)) {
        const v = level.get(link)!;
        out.push({ t, link, rate: v < 1e-3 ? 0 : v });
      }
    }
    return out;
  }
}
