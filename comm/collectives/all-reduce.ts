import type { Endpoint } from '../endpoint.ts';
import type { CollectiveChoice, CollectiveKind } from './choices.ts';
import { logAutoChoice } from './auto-choices.ts';
import { ringAllReduce } from './ring-allreduce.ts';
import { runSchedule, runScheduleAsUnit, type UnitTiming } from './run-schedule.ts';
import { allReduceSchedule, applicableCollectives, type NetworkShape } from './schedules/index.ts';
import type { Schedule } from './schedules/schedule.ts';

/** How the workers' all-reduce is chosen (topology.collective) and what it knows of the network. */
export interface CollectiveOptions {
  collective: CollectiveChoice;
  shape: NetworkShape;
  /**
   * Virtual duration of a schedule with every rank entering at 0, under the run's network model
   * (a pure time-only simulation the runtime injects; comm/ knows no network model). `auto` needs it.
   */
  estimate?: (schedule: Schedule) => number;
  /**
   * Per-rank finish times of a schedule given every rank's entry time, under max-min sharing
   * (injected by the runtime, for every topology but the ring). When present, collectives are
   * timed as a unit (runScheduleAsUnit); without it each message is timed by the link model.
   */
  timeAsUnit?: (schedule: Schedule, entries: readonly number[], op: number) => UnitTiming;
  /**
   * Also time the collectives that send message by message (variable-size all-gathers, gossip
   * rounds, 1-bit Adam's all-to-all) as units through `timeAsUnit` (run-sized-unit.ts): set on
   * cut-through topologies, where senders' routes can share links; on the ring and the star
   * (store and forward) their messages keep the link model.
   */
  messagesAsUnit?: boolean;
  /**
   * With `timeAsUnit`: register a collective entered inside a background exchange and decide its
   * timing when first needed (so it shares the links max-min with every collective entered
   * before then). Without it, background collectives are timed when entered, like the others.
   */
  deferAsUnit?: (schedule: Schedule, entries: readonly number[], op: number) => (point: number) => UnitTiming;
  /**
   * `auto` with unit timing on a network that changes over time (link faults, partitions,
   * traces): the collective to run for n ranks and `length` elements given every rank's entry
   * time (exchanged before any byte moves, so every rank passes the same entries and gets the
   * same answer). Absent: auto chooses once per size with `estimate`, as on a steady network.
   */
  chooseAt?: (n: number, length: number, entries: readonly number[]) => CollectiveKind;
}

interface Cache {
  schedules: Map<string, Schedule>;
  choices: Map<string, CollectiveKind>;
}
const caches = new WeakMap<CollectiveOptions, Cache>();

function cacheOf(o: CollectiveOptions): Cache {
  let c = caches.get(o);
  if (!c) {
    c = { schedules: new Map(), choices: new Map() };
    caches.set(o, c);
  }
  return c;
}

/** The schedule of `kind` for n ranks and `length` elements (cached per options object). */
export function scheduleFor(o: CollectiveOptions, kind: CollectiveKind, n: number, length: number): Schedule {
  const cache = cacheOf(o).schedules;
  const key = `${kind}:${n}:${length}`;
  let s = cache.get(key);
  if (!s) {
    s = allReduceSchedule(kind, n, length, o.shape);
    cache.set(key, s);
  }
  return s;
}

/**
 * The collective that runs for a vector of `length` elements: the configured one, or for `auto`
 * the fastest under the network model (ties to the earlier in ring, tree, double-tree,
 * recursive-doubling, halving-doubling, hierarchical, 2d-ring). A pure function of (options, n, length), so every
 * rank, in every process, picks the same.
 */
export function chooseCollective(o: CollectiveOptions, n: number, length: number): CollectiveKind {
  if (o.collective !== 'auto') return o.collective;
  const cache = cacheOf(o).choices;
  const key = `${n}:${length}`;
  let best = cache.get(key);
  if (best === undefined) {
    if (!o.estimate) throw new Error('collective auto needs a network model estimate');
    let bestTime = Infinity;
    for (const kind of applicableCollectives(o.shape, n)) {
      const t = o.estimate(allReduceSchedule(kind, n, length, o.shape));
      if (t < bestTime) {
        bestTime = t;
        best = kind;
      }
    }
    cache.set(key, best!);
  }
  return best!;
}

/**
 * Sum all-reduce in place with the configured collective. Every call takes one collective op
 * number on every rank, whichever algorithm runs. Without unit timing, `ring` is ringAllReduce
 * itself, timed message by message (on a ring topology its flows never share a link, so max-min
 * and fifo agree, and ring experiments keep their exact metrics); every other case runs its
 * schedule, timed as a unit under max-min sharing or message by message under fifo. `auto` with
 * `chooseAt` (a network that changes) picks its schedule inside the unit timing, once every
 * rank's entry time is known. The choice is logged for the step report (auto-choices.ts).
 */
export async function allReduce(ep: Endpoint, data: Float32Array, o: CollectiveOptions): Promise<void> {
  const unit = o.timeAsUnit;
  const choose = o.chooseAt;
  if (o.collective === 'auto' && unit && choose && ep.size > 1 && data.length > 0) {
    // Choose after the entry exchange, from when the ranks really enter (faults, traces).
    const op = ep.nextOp();
    const entered = ep.now;
    const n = ep.size;
    const length = data.length;
    let chosen: CollectiveKind | null = null;
    await runScheduleAsUnit(
      ep,
      data,
      (entries) => scheduleFor(o, (chosen = choose(n, length, entries)), n, length),
      op,
      (entries, schedule) => unit(schedule, entries, op),
      o.deferAsUnit && ((entries, schedule) => o.deferAsUnit!(schedule, entries, op)),
    );
    logAutoChoice(ep, entered, length * 4, chosen!);
    return;
  }
  const kind = chooseCollective(o, ep.size, data.length);
  if (o.collective === 'auto') logAutoChoice(ep, ep.now, data.length * 4, kind);
  if (kind === 'ring' && !o.timeAsUnit) return ringAllReduce(ep, data);
  const op = ep.nextOp();
  if (ep.size === 1 || data.length === 0) return;
  const schedule = scheduleFor(o, kind, ep.size, data.length);
  const defer = o.deferAsUnit;
  if (unit) await runScheduleAsUnit(ep, data, schedule, op, (entries) => unit(schedule, entries, op), defer && ((entries) => defer(schedule, entries, op)));
  else await runSchedule(ep, data, schedule, op);
}
