import type { Endpoint } from '../endpoint.ts';
import type { CollectiveOptions } from './all-reduce.ts';
import { gatherRing, ringAllGather } from './allgather.ts';
import { gatherDoubling, recursiveDoublingAllGather } from './allgather-recursive-doubling.ts';
import { checkDeclared, runSizedUnit, untimedMover, type DeferTimer, type UnitTimer } from './run-sized-unit.ts';
import { recursiveDoublingAllGatherSized, ringAllGatherSized } from './schedules/sized.ts';
import { joinStampBoard } from './stamp-board.ts';
import type { Schedule } from './schedules/schedule.ts';

/**
 * The collective options of each endpoint, set once by whoever creates it (the worker host), so
 * collectives deep inside an algorithm (the compressors' all-gather) follow `topology.collective`
 * without threading options through every call.
 */
const byEndpoint = new WeakMap<Endpoint, CollectiveOptions>();

export function configureCollectives(ep: Endpoint, o: CollectiveOptions): void {
  byEndpoint.set(ep, o);
  // The endpoints configured with one options object are one process's: their units' entry
  // stamps go through a shared board instead of messages (stamp-board.ts).
  joinStampBoard(ep, o);
  phaseLogs.set(ep, []);
}

/**
 * Collective phases of an endpoint since they were last drained: [name, start, end] in virtual
 * time, consecutive rounds of one phase merged (the Gantt chart names them). Kept only for
 * endpoints configured by a worker host.
 */
const phaseLogs = new WeakMap<Endpoint, [string, number, number][]>();

export function logPhase(ep: Endpoint, name: string, start: number, end: number): void {
  const log = phaseLogs.get(ep);
  if (!log) return;
  const last = log[log.length - 1];
  if (last && last[0] === name && last[2] >= start) last[2] = Math.max(last[2], end);
  else log.push([name, start, end]);
}

export function drainPhases(ep: Endpoint): [string, number, number][] {
  const log = phaseLogs.get(ep);
  if (!log || log.length === 0) return [];
  return log.splice(0, log.length);
}

export function collectivesOf(ep: Endpoint): CollectiveOptions | undefined {
  return byEndpoint.get(ep);
}

/**
 * The timer of message-by-message collectives timed as a unit (max-min on a cut-through
 * topology: CollectiveOptions.messagesAsUnit), or undefined when their messages keep the link model.
 */
export function messageUnitTimer(ep: Endpoint): UnitTimer | undefined {
  const o = byEndpoint.get(ep);
  return o?.messagesAsUnit ? o.timeAsUnit : undefined;
}

/**
 * All-gather of variable-size payloads with the configured algorithm: recursive doubling when
 * `topology.collective` is recursive-doubling or halving-doubling (lg n messages per rank),
 * otherwise the ring (n-1 messages). Timed as a unit where the run times message collectives so
 * (messageUnitTimer); there `auto` picks the faster of the two for the payload sizes every rank
 * declared in its entry stamp. Without unit timing no rank knows the others' sizes before
 * sending, and auto keeps the ring.
 */
export function allGather(ep: Endpoint, payload: Uint8Array): Promise<Uint8Array[]> {
  const o = byEndpoint.get(ep);
  const kind = o?.collective;
  const unit = messageUnitTimer(ep);
  // Inside a background exchange the unit's timing is decided when first needed (deferAsUnit).
  const defer = unit ? o?.deferAsUnit : undefined;
  if (kind === 'auto' && unit && o?.estimate && ep.size > 1) return autoAllGather(ep, payload, unit, o.estimate, choicesOf(o), defer);
  if (kind === 'recursive-doubling' || kind === 'halving-doubling') return recursiveDoublingAllGather(ep, payload, unit, defer);
  return ringAllGather(ep, payload, unit, defer);
}

type GatherKind = 'ring' | 'recursive-doubling';
const gatherChoices = new WeakMap<CollectiveOptions, Map<string, GatherKind>>();

function choicesOf(o: CollectiveOptions): Map<string, GatherKind> {
  let m = gatherChoices.get(o);
  if (!m) {
    m = new Map();
    gatherChoices.set(o, m);
  }
  return m;
}

/**
 * `auto` all-gather timed as a unit: after the stamps, every rank times both sized schedules
 * with every rank entering at 0 (the estimate auto's all-reduce uses) and runs the faster (ties
 * to the ring), so all ranks choose alike. Choices are kept per list of sizes (a top-k payload
 * has the same size every step).
 */
async function autoAllGather(ep: Endpoint, payload: Uint8Array, unit: UnitTimer, estimate: (s: Schedule) => number, choices: Map<string, GatherKind>, defer?: DeferTimer): Promise<Uint8Array[]> {
  const op = ep.nextOp();
  // Built once per process (the ranks share it): which one it is says which code moves the bytes.
  const build = (sizes: readonly number[]): Schedule => {
    const key = sizes.join(',');
    let k = choices.get(key);
    if (!k) {
      k = estimate(recursiveDoublingAllGatherSized(sizes)) < estimate(ringAllGatherSized(sizes)) ? 'recursive-doubling' : 'ring';
      if (choices.size >= 64) choices.delete(choices.keys().next().value!);
      choices.set(key, k);
    }
    return k === 'ring' ? ringAllGatherSized(sizes) : recursiveDoublingAllGatherSized(sizes);
  };
  return runSizedUnit(ep, op, payload.byteLength, 'auto all-gather', build, unit, async (sizes, schedule) => {
    const kind: GatherKind = schedule.algorithm === 'ring all-gather' ? 'ring' : 'recursive-doubling';
    const out = await (kind === 'ring' ? gatherRing : gatherDoubling)(ep, payload, op, untimedMover(ep));
    out.forEach((p, r) => checkDeclared(`${kind} all-gather`, r, p.byteLength, sizes[r]!));
    return out;
  }, defer);
}
