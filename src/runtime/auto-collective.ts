import { scheduleFor, type CollectiveOptions } from '../../comm/collectives/all-reduce.ts';
import type { CollectiveKind } from '../../comm/collectives/choices.ts';
import { applicableCollectives } from '../../comm/collectives/schedules/index.ts';
import type { Link, Topology } from '../../topologies/index.ts';
import { realBandwidthAt, realLatencyAt } from '../sim/link-capacity.ts';
import { timeSchedule } from '../sim/collective-time.ts';
import type { FaultSchedule } from '../sim/faults.ts';

/** True if the network's links change over virtual time: link faults, partitions or traces. */
export function networkChanges(topology: Topology, faults: FaultSchedule | null): boolean {
  return topology.links.some((l) => l.trace) || (faults?.faults.some((f) => f.kind === 'link' || f.kind === 'partition') ?? false);
}

/** Counters of an auto chooser (benchmarks and tests). */
export interface AutoChooserStats {
  /** Calls answered from a steady stretch of the network (candidates timed once per size and network state). */
  steady: number;
  /** Collectives whose candidates were all timed from the ranks' entry times with faults and traces (once per process). */
  simulated: number;
}

/**
 * `auto` for unit-timed collectives on a network that changes over time: the collective with
 * the earliest last finish when the ranks enter at `entries` (the same on every rank, hence the
 * same choice everywhere), candidates tried in applicableCollectives' order, ties to the earlier.
 *
 * Cost: between two changes of the network (a fault's or partition's start or end, a trace
 * breakpoint) the links hold still, so when every candidate would be over before the next change
 * (entered by the last rank plus its time on that steady network) the choice is the steady one:
 * timed once per size and network state with every rank entering together, exactly as auto
 * chooses on a network that never changes (entry skew is not considered there either). Only
 * collectives that a change could reach, or that run during a partition, time every candidate
 * from the real entries with the run's faults and traces (the collective about to run is timed
 * again by the unit timer, against the collectives still in flight, which the choice ignores).
 */
export function autoChooser(topology: Topology, faults: FaultSchedule | null, o: CollectiveOptions): ((n: number, length: number, entries: readonly number[]) => CollectiveKind) & { stats: AutoChooserStats } {
  const changes = changeTimes(topology, faults);
  const partitions = (faults?.faults ?? []).flatMap((f) => (f.kind === 'partition' ? [[f.at, f.at + f.for] as const] : []));
  const stats: AutoChooserStats = { steady: 0, simulated: 0 };
  /** Per stretch between changes: its network state's key and the topology frozen in it. */
  const stretches = new Map<number, { key: string; frozen: Topology }>();
  const steadyChoice = new Map<string, { kind: CollectiveKind; longest: number }>();
  // The last few choices timed from entries (the ranks of one process ask in turn with equal entries).
  const recent: { n: number; length: number; entries: Float64Array; kind: CollectiveKind }[] = [];

  const stretchOf = (i: number) => {
    let s = stretches.get(i);
    if (!s) {
      s = frozenAt(topology, faults, i === 0 ? -Infinity : changes[i - 1]!);
      stretches.set(i, s);
    }
    return s;
  };

  const fastest = (n: number, length: number, time: (kind: CollectiveKind) => number) => {
    let best: CollectiveKind | null = null;
    let bestTime = Infinity;
    let longest = 0;
    for (const kind of applicableCollectives(o.shape, n)) {
      const t = time(kind);
      if (t > longest) longest = t;
      if (t < bestTime) {
        bestTime = t;
        best = kind;
      }
    }
    return { kind: best!, longest };
  };

  const choose = (n: number, length: number, entries: readonly number[]): CollectiveKind => {
    let first = Infinity;
    let last = -Infinity;
    for (const e of entries) {
      if (e < first) first = e;
      if (e > last) last = e;
    }
    // The stretch holding the first entry: [changes[i - 1], changes[i]).
    let i = 0;
    for (let hi = changes.length; i < hi; ) {
      const mid = (i + hi) >> 1;
      if (changes[mid]! <= first) i = mid + 1;
      else hi = mid;
    }
    const cut = partitions.some(([a, b]) => first < b && last >= a);
    if (!cut && (i === changes.length || changes[i]! > last)) {
      const stretch = stretchOf(i);
      const key = `${stretch.key}|${n}:${length}`;
      let steady = steadyChoice.get(key);
      if (!steady) {
        steady = fastest(n, length, (kind) => timeSchedule(stretch.frozen, scheduleFor(o, kind, n, length), 0, 'max-min').makespan);
        steadyChoice.set(key, steady);
      }
      // A relative margin: the steady times were taken from 0, the collective starts later.
      const next = i < changes.length ? changes[i]! : Infinity;
      if (last + steady.longest * (1 + 1e-9) < next) {
        stats.steady++;
        return steady.kind;
      }
    }
    const hit = recent.find((x) => x.n === n && x.length === length && sameEntries(x.entries, entries));
    if (hit) return hit.kind;
    const kind = fastest(n, length, (k) => timeSchedule(topology, scheduleFor(o, k, n, length), entries, 'max-min', 4, faults).makespan).kind;
    stats.simulated++;
    recent.push({ n, length, entries: Float64Array.from(entries), kind });
    if (recent.length > 4) recent.shift();
    return kind;
  };
  return Object.assign(choose, { stats });
}

function sameEntries(a: Float64Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every virtual time at which some link's bandwidth or latency, or a partition, changes (sorted, distinct). */
function changeTimes(topology: Topology, faults: FaultSchedule | null): number[] {
  const times = new Set<number>();
  for (const l of topology.links) for (const t of l.trace?.times ?? []) times.add(t);
  for (const f of faults?.faults ?? []) {
    if (f.kind === 'link') {
      times.add(f.at);
      if (f.for !== null) times.add(f.at + f.for);
    } else if (f.kind === 'partition') {
      times.add(f.at);
      times.add(f.at + f.for);
    }
  }
  return [...times].sort((a, b) => a - b);
}

/**
 * The topology as it stands at time t (links with the bandwidth and latency in force then, no
 * traces), and a key naming that state: stretches with equal keys share their choices.
 */
function frozenAt(topology: Topology, faults: FaultSchedule | null, t: number): { key: string; frozen: Topology } {
  const copies = new Map<Link, Link>();
  const parts: string[] = [];
  topology.links.forEach((l, k) => {
    const bandwidth = realBandwidthAt(l, faults, t);
    const latency = realLatencyAt(l, faults, t);
    if (bandwidth !== l.bandwidth || latency !== l.latency) parts.push(`${k}:${bandwidth}:${latency}`);
    copies.set(l, { id: l.id, bandwidth, latency, shared: l.shared });
  });
  const frozen: Topology = { ...topology, links: topology.links.map((l) => copies.get(l)!), route: (from, to) => topology.route(from, to).map((l) => copies.get(l)!) };
  return { key: parts.join(','), frozen };
}
