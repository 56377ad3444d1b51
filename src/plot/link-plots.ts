import { writeFileSync } from 'node:fs';
import type { Topology } from '../../topologies/index.ts';
import type { Schedule } from '../../comm/collectives/schedules/schedule.ts';
import { scheduleToFlows } from '../sim/collective-time.ts';
import type { FaultSchedule } from '../sim/faults.ts';
import { linkUtilization, type LinkUsage } from '../sim/link-utilization.ts';
import { renderLineChart, type Series } from './render-chart.ts';

/**
 * plots/links.png: utilization over virtual time of the busiest links during one all-reduce of
 * the model's vector with the collective the run used, every worker entering at 0 (the network
 * model alone, max-min, with the run's traces and link faults as they are from time 0; the
 * utilization is over the link's real bandwidth at each moment). Shows which links a topology's
 * collective saturates, and for how long.
 */
export function plotLinkUtilization(topology: Topology, schedule: Schedule, file: string, title: string, top = 4, faults: FaultSchedule | null = null): LinkUsage[] {
  const { flows } = scheduleToFlows(schedule, () => 0);
  const usage = linkUtilization(topology, flows, top, faults);
  const series: Series[] = usage.map((u) => {
    const points: { x: number; y: number }[] = [];
    u.times.forEach((t, i) => {
      if (i > 0) points.push({ x: t * 1e3, y: u.value[i - 1]! });
      points.push({ x: t * 1e3, y: u.value[i]! });
    });
    return { label: `${u.link} (${(u.bits / 8e6).toFixed(3)} MB)`, points };
  });
  writeFileSync(file, renderLineChart({ title, xLabel: 'virtual time within the all-reduce (ms)', yLabel: 'link utilization', series }));
  return usage;
}
