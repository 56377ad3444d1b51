import { isMeanAggregator, type AggregatorConfig } from '../../optimizers/common/aggregator-option.ts';
import type { StepReport, WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig } from '../config/types.ts';
import { ComputeTimeModel } from '../sim/compute-time.ts';
import { StragglerModel } from '../sim/stragglers.ts';
import { UniformRingAllReduce } from '../sim/uniform-ring-allreduce.ts';
import type { ModelDef } from '../train/models.ts';
import { stragglerDelayOf } from './run-setup.ts';
import { MAX_TRANSFER_WORKERS } from './worker-host.ts';

/**
 * Time-only all-reduce SGD on a ring without faults: what WorkerHost + optimizers/allreduce-sgd
 * report in time-only mode, computed on clock arrays (UniformRingAllReduce) with no endpoints,
 * messages or payloads, so 10^4 workers simulate in seconds per step. Anything else (faults,
 * fault programs, other algorithms, topologies or collectives, transport.batchCollectives=false) goes
 * through the general time-only path.
 */
export function ringSgdShortcutApplies(lc: LoadedConfig): boolean {
  const c = lc.config;
  return (
    c.optimizer.kind === 'allreduce-sgd' &&
    // A robust aggregator all-gathers instead of all-reducing.
    isMeanAggregator(c.optimizer['aggregator'] as AggregatorConfig | undefined) &&
    c.topology.kind === 'ring' &&
    c.topology.collective === 'ring' &&
    c.compute.mode === 'modelled' &&
    c.transport.batchCollectives &&
    lc.faults.length === 0 &&
    !lc.faultsModulePath
  );
}

export async function runRingSgdTimeOnly(lc: LoadedConfig, model: ModelDef, report: (r: WorkerReport) => void, wallTime: () => number): Promise<void> {
  const c = lc.config;
  const n = c.workers;
  const stragglers = new StragglerModel({ slow: c.stragglers.slow, delay: stragglerDelayOf(lc) }, c.seed);
  const timeModel = new ComputeTimeModel(model.flopsPerSample, lc.q.speed, stragglers);
  const ring = new UniformRingAllReduce(n, model.size, lc.q.bandwidth, lc.q.latency);
  const now = new Float64Array(n);
  const commStart = new Float64Array(n);
  const compute = new Float64Array(n);
  const delay = new Float64Array(n);
  const bytesSent = new Float64Array(n);
  // The messages for the timeline and trace.json, as the endpoints record them in a full run.
  const transfers: [number, number, number, number][][] | null = n <= MAX_TRANSFER_WORKERS ? Array.from({ length: n }, () => []) : null;
  const record = transfers ? (from: number, to: number, bytes: number, send: number, arrival: number) => void transfers[from]!.push([to, bytes, send, arrival]) : undefined;
  for (let step = 1; step <= c.train.steps; step++) {
    for (let r = 0; r < n; r++) {
      // As WorkerHost's computeTime with no faults: compute * 1 (slowdown), delay + 0 (stall).
      const t = timeModel.stepTime(r, step, c.data.batchSize);
      compute[r] = t.compute;
      delay[r] = t.delay;
      now[r] = now[r]! + (t.compute + t.delay);
      commStart[r] = now[r]!;
    }
    ring.run(now, record);
    const wall = wallTime();
    for (let r = 0; r < n; r++) {
      bytesSent[r] = bytesSent[r]! + ring.bytesPerRank[r]!;
      const rep: StepReport = {
        type: 'step',
        rank: r,
        step,
        loss: Number.NaN,
        simTime: now[r]!,
        compute: compute[r]!,
        delay: delay[r]!,
        comm: now[r]! - commStart[r]!,
        bytesSent: bytesSent[r]!,
        wallTime: wall,
        gradWallSec: 0,
        gradCpuSec: 0,
      };
      if (transfers && transfers[r]!.length > 0) rep.transfers = transfers[r]!.splice(0);
      if (step === c.train.steps) rep.bytesTo = n > 1 ? [[(r + 1) % n, bytesSent[r]!]] : [];
      report(rep);
    }
    if (step % c.train.evalEvery === 0 || step === c.train.steps) {
      report({ type: 'eval', rank: 0, step, simTime: now[0]!, evalLoss: Number.NaN, evalAccuracy: Number.NaN });
    }
    // Let signals (Ctrl-C) and progress output through between steps.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
