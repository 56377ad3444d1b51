import { chooseCollective, type CollectiveOptions } from '../../comm/collectives/all-reduce.ts';
import { allReduceSchedule, applicableCollectives, type Schedule } from '../../comm/collectives/schedules/index.ts';
import type { Topology } from '../../topologies/index.ts';
import type { LoadedConfig } from '../config/types.ts';
import { timeSchedule, type CollectiveTiming } from '../sim/collective-time.ts';
import { UnitScheduler } from '../sim/unit-scheduler.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { topologyOf } from './run-setup.ts';
import { plotLinkUtilization } from '../plot/link-plots.ts';
import { autoChooser, networkChanges } from './auto-collective.ts';
import { autoRanReport, type AutoRanReport } from '../metrics/auto-ran.ts';
import type { LinkUsage } from '../sim/link-utilization.ts';

/** The workers' collective options: the configured algorithm, the network's shape, and (for auto) its time under the model. */
export function collectiveOptionsOf(lc: LoadedConfig, topology: Topology = topologyOf(lc), localRanks = Infinity): CollectiveOptions {
  const sharing = lc.config.network.sharing;
  // Link faults and partitions reach unit-timed collectives through the flow simulation.
  const faults = lc.faults.some((f) => f.kind === 'link' || f.kind === 'partition') ? new FaultSchedule(lc.faults) : null;
  const shape = { ...(topology.groups ? { groups: topology.groups } : {}), ...(topology.dims ? { dims: topology.dims } : {}) };
  const o: CollectiveOptions = {
    collective: lc.config.topology.collective,
    shape,
    estimate: (schedule) => timeSchedule(topology, schedule, 0, sharing).makespan,
    // On a ring topology every collective's messages are timed one by one: the ring all-reduce's
    // neighbour transfers never share a link there, and ring experiments keep their metrics.
    ...(sharing === 'max-min' && topology.kind !== 'ring' ? unitTiming(topology, faults, localRanks) : {}),
    // Collectives sent message by message too, where routes cut through and senders can share links.
    ...(sharing === 'max-min' && topology.forwarding === 'cut' ? { messagesAsUnit: true } : {}),
  };
  // auto on a network that changes (faults, traces) chooses from the ranks' entry times once
  // they are exchanged; message-timed collectives have no exchange and keep the choice per size.
  if (o.timeAsUnit && o.collective === 'auto' && networkChanges(topology, faults)) o.chooseAt = autoChooser(topology, faults, o);
  return o;
}

/**
 * Times unit-timed collectives for every rank of this process (`localRanks` of them): one
 * UnitScheduler (src/sim/unit-scheduler.ts) shared by its ranks decides each op once. A blocking
 * collective is decided when entered; one entered in a background exchange (a Streaming DiLoCo
 * fragment, eager DiLoCo's and CO2's outer all-reduce) when its result is first needed, max-min
 * together with every collective entered by then.
 */
export function unitTiming(topology: Topology, faults: FaultSchedule | null, localRanks = Infinity): Pick<CollectiveOptions, 'timeAsUnit' | 'deferAsUnit'> {
  const scheduler = new UnitScheduler(topology, faults, localRanks);
  return { timeAsUnit: (schedule, entries, op) => scheduler.time(schedule, entries, op), deferAsUnit: (schedule, entries, op) => scheduler.defer(schedule, entries, op) };
}

/**
 * Decides every unit-timed collective when it is entered (first come first served between
 * collectives: one entered while an earlier one is in flight gets the capacity it leaves): what
 * `timeAsUnit` alone gives, without `deferAsUnit`.
 */
export function unitTimer(topology: Topology, faults: FaultSchedule | null, localRanks = Infinity): (schedule: Schedule, entries: readonly number[], op: number) => CollectiveTiming {
  const scheduler = new UnitScheduler(topology, faults, localRanks);
  return (schedule, entries, op) => scheduler.time(schedule, entries, op);
}

/** One message size's collective times under the model, and which one runs. */
export interface CollectiveChoiceReport {
  bytes: number;
  algorithm: string;
  seconds: Record<string, number>;
}

/**
 * summary.json's `collective`: the configured algorithm, the sharing model, and for the model's
 * dense vector and a range of message sizes the time-only duration of every collective this
 * network can run and the one auto picks on the configured network (every rank entering at 0).
 * With auto, `ran` says what the workers really ran (from rank 0's step reports: it may differ
 * from that pick while faults or traces change the network).
 */
export function collectiveReport(
  lc: LoadedConfig,
  modelSize: number,
  ran: AutoRanReport | null = null,
): { configured: string; sharing: string; model: CollectiveChoiceReport; bySize: CollectiveChoiceReport[]; ran?: AutoRanReport } {
  const topology = topologyOf(lc);
  const o = collectiveOptionsOf(lc, topology);
  const n = lc.config.workers;
  const report = (length: number): CollectiveChoiceReport => {
    const seconds: Record<string, number> = {};
    for (const kind of applicableCollectives(o.shape, n)) seconds[kind] = o.estimate!(allReduceSchedule(kind, n, length, o.shape));
    return { bytes: length * 4, algorithm: chooseCollective(o, n, length), seconds };
  };
  const bySize = [256, 4096, 65536, 1 << 20, 1 << 24].filter((b) => b / 4 <= 64 * modelSize).map((b) => report(b / 4));
  return { configured: lc.config.topology.collective, sharing: lc.config.network.sharing, model: report(modelSize), bySize, ...(o.collective === 'auto' ? { ran: ran ?? autoRanReport([]) } : {}) };
}

/**
 * plots/links.png for a run on a topology with worker-to-worker collectives (not the star);
 * returns what it drew (report.html shows the same).
 */
export function plotRunLinks(lc: LoadedConfig, modelSize: number, file: string): { title: string; usage: LinkUsage[] } {
  const topology = topologyOf(lc);
  const o = collectiveOptionsOf(lc, topology);
  const kind = chooseCollective(o, lc.config.workers, modelSize);
  const schedule = allReduceSchedule(kind, lc.config.workers, modelSize, o.shape);
  const title = `${lc.config.name}: busiest links during one ${kind} all-reduce of the model (${topology.kind})`;
  const faults = lc.faults.some((f) => f.kind === 'link' || f.kind === 'partition') ? new FaultSchedule(lc.faults) : null;
  return { title, usage: plotLinkUtilization(topology, schedule, file, title, 4, faults) };
}
