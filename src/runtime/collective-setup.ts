import { chooseCollective, type CollectiveOptions } from '../../comm/collectives/all-reduce.ts';
import { allReduceSchedule, applicableCollectives, type Schedule } from '../../comm/collectives/schedules/index.ts';
import type { Topology } from '../../topologies/index.ts';
import type { LoadedConfig } from '../config/types.ts';
import { timeSchedule, type CollectiveTiming } from '../sim/collective-time.ts';
import { UnitLedger } from '../sim/unit-ledger.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { topologyOf } from './run-setup.ts';
import { plotLinkUtilization } from '../plot/link-plots.ts';
import type { LinkUsage } from '../sim/link-utilization.ts';

/** The workers' collective options: the configured algorithm, the network's shape, and (for auto) its time under the model. */
export function collectiveOptionsOf(lc: LoadedConfig, topology: Topology = topologyOf(lc)): CollectiveOptions {
  const sharing = lc.config.network.sharing;
  // Link faults and partitions reach unit-timed collectives through the flow simulation (the
  // choice of auto is made on the configured network, without them).
  const faults = lc.faults.some((f) => f.kind === 'link' || f.kind === 'partition') ? new FaultSchedule(lc.faults) : null;
  const shape = { ...(topology.groups ? { groups: topology.groups } : {}), ...(topology.dims ? { dims: topology.dims } : {}) };
  return {
    collective: lc.config.topology.collective,
    shape,
    estimate: (schedule) => timeSchedule(topology, schedule, 0, sharing).makespan,
    // On a ring topology every collective's messages are timed one by one: the ring all-reduce's
    // neighbour transfers never share a link there, and ring experiments keep their metrics.
    ...(sharing === 'max-min' && topology.kind !== 'ring' ? { timeAsUnit: unitTimer(topology, faults) } : {}),
    // Collectives sent message by message too, where routes cut through and senders can share links.
    ...(sharing === 'max-min' && topology.forwarding === 'cut' ? { messagesAsUnit: true } : {}),
  };
}

/**
 * Times unit-timed collectives for every rank of this process: each op once (the ranks of one
 * process share the answer: all have the same entry times), in op order, against a ledger of the
 * collectives timed before (src/sim/unit-ledger.ts): a collective that enters while an earlier
 * one is still in flight (a Streaming DiLoCo fragment) gets the link capacity that one leaves.
 */
export function unitTimer(topology: Topology, faults: FaultSchedule | null): (schedule: Schedule, entries: readonly number[], op: number) => CollectiveTiming {
  const ledger = new UnitLedger();
  const byOp = new Map<number, CollectiveTiming>();
  return (schedule, entries, op) => {
    let t = byOp.get(op);
    if (!t) {
      t = timeSchedule(topology, schedule, entries, 'max-min', 4, faults, ledger);
      byOp.set(op, t);
      // Every rank of this process asks for op k before any can enter op k + 1: keep a few.
      if (byOp.size > 8) byOp.delete(byOp.keys().next().value!);
    }
    return t;
  };
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
 * network can run and the one the workers ran (auto's choice).
 */
export function collectiveReport(lc: LoadedConfig, modelSize: number): { configured: string; sharing: string; model: CollectiveChoiceReport; bySize: CollectiveChoiceReport[] } {
  const topology = topologyOf(lc);
  const o = collectiveOptionsOf(lc, topology);
  const n = lc.config.workers;
  const report = (length: number): CollectiveChoiceReport => {
    const seconds: Record<string, number> = {};
    for (const kind of applicableCollectives(o.shape, n)) seconds[kind] = o.estimate!(allReduceSchedule(kind, n, length, o.shape));
    return { bytes: length * 4, algorithm: chooseCollective(o, n, length), seconds };
  };
  const bySize = [256, 4096, 65536, 1 << 20, 1 << 24].filter((b) => b / 4 <= 64 * modelSize).map((b) => report(b / 4));
  return { configured: lc.config.topology.collective, sharing: lc.config.network.sharing, model: report(modelSize), bySize };
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
  return { title, usage: plotLinkUtilization(topology, schedule, file, title) };
}
