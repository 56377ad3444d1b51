import type { LoadedConfig } from '../config/types.ts';
import type { EvalLine, MetricsLine, TrainLine, WorkerBreakdown } from './aggregator.ts';

export interface Summary {
  name: string;
  finalAccuracy: number | null;
  finalLoss: number | null;
  finalTrainLoss: number | null;
  /** uplinkBits + downlinkBits: every payload bit the transport carried. */
  totalBits: number;
  /** Payload bits sent by workers (to the server, or to other workers on a ring). */
  uplinkBits: number;
  /** Payload bits sent by the parameter server to workers (0 without a server). */
  downlinkBits: number;
  /** Payload bits per directed link, "from->to" (ranks; the server is rank `workers`). */
  linkBits: Record<string, number>;
  /**
   * The most bits (uplink + downlink) sent in one step, the last step excluded (there Streaming DiLoCo
   * synchronizes every fragment to end the run) unless nothing was sent before it: the peak
   * bits per synchronization.
   */
  peakStepBits: number;
  /** Same as downlinkBits (kept for existing readers). */
  serverBits: number;
  simTimeSec: number;
  wallTimeSec: number;
  /** Wall-clock seconds of the training phase alone (workers started to all done). */
  trainWallSec: number;
  steps: number;
  /** First step whose training loss was not finite (the run diverged), or null. */
  divergedAtStep: number | null;
  backend: string;
  timeToTarget: { step: number; simTimeSec: number; bits: number } | null;
  target: { accuracy?: number; loss?: number } | null;
  workers: WorkerBreakdown[];
  /** powersgd: per-layer treatment and the achieved compression ratio. */
  powersgd?: unknown;
  /** The workers' collective: configured, sharing, and time-only durations / choice per message size. */
  collective?: unknown;
  /** async-sgd: staleness of the applied gradients (histogram[s] = how many had staleness s). */
  staleness?: { count: number; mean: number; max: number; histogram: number[] };
}

/** The staleness histogram of every gradient reported in the train lines, if any were. */
function stalenessSummary(train: TrainLine[]): Summary['staleness'] {
  if (!train.some((l) => l.stalenessByWorker)) return undefined;
  const histogram: number[] = [];
  let count = 0;
  let sum = 0;
  for (const l of train) {
    for (const s of l.stalenessByWorker ?? []) {
      while (histogram.length <= s) histogram.push(0);
      histogram[s]!++;
      count++;
      sum += s;
    }
  }
  return { count, mean: count > 0 ? sum / count : 0, max: histogram.length - 1, histogram };
}

function peakStepBits(train: TrainLine[]): number {
  const sent = train.map((l, i) => l.bits - (i > 0 ? train[i - 1]!.bits : 0));
  const beforeLast = Math.max(0, ...sent.slice(0, -1));
  // A run whose only synchronization is its last step (e.g. DiLoCo with steps <= H) peaks there.
  return beforeLast > 0 ? beforeLast : Math.max(0, ...sent);
}

function linkBits(workers: WorkerBreakdown[], n: number, serverBytesTo: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of workers) {
    for (const [to, bytes] of Object.entries(w.bytesTo).sort((a, b) => Number(a[0]) - Number(b[0]))) out[`${w.worker}->${to}`] = bytes * 8;
  }
  for (const [to, bytes] of [...serverBytesTo.entries()].sort((a, b) => a[0] - b[0])) out[`${n}->${to}`] = bytes * 8;
  return out;
}

/** summary.json: final numbers, and the first evaluation that met the target, if one is set. */
export function buildSummary(
  lc: LoadedConfig,
  lines: MetricsLine[],
  workers: WorkerBreakdown[],
  wallTimeSec: number,
  backend: string,
  serverBits: number,
  /** The server's payload bytes per destination rank. */
  serverBytesTo: Map<number, number> = new Map(),
): Summary {
  const train = lines.filter((l): l is TrainLine => l.kind === 'train');
  const evals = lines.filter((l): l is EvalLine => l.kind === 'eval');
  const lastTrain = train[train.length - 1];
  const lastEval = evals[evals.length - 1];
  const t = lc.config.train.target;
  const hasTarget = t.accuracy !== undefined || t.loss !== undefined;
  const hit = hasTarget
    ? evals.find((e) => (t.accuracy === undefined || (e.evalAccuracy ?? -1) >= t.accuracy) && (t.loss === undefined || e.evalLoss <= t.loss))
    : undefined;
  return {
    name: lc.config.name,
    finalAccuracy: lastEval?.evalAccuracy ?? null,
    finalLoss: lastEval?.evalLoss ?? null,
    finalTrainLoss: lastTrain?.loss ?? null,
    // The transport's own counters: what workers sent (their last reports) and what the server sent.
    totalBits: (lastTrain?.uplinkBits ?? 0) + serverBits,
    uplinkBits: lastTrain?.uplinkBits ?? 0,
    downlinkBits: serverBits,
    linkBits: linkBits(workers, lc.config.workers, serverBytesTo),
    peakStepBits: peakStepBits(train),
    serverBits,
    simTimeSec: lastTrain?.simTimeSec ?? 0,
    wallTimeSec,
    trainWallSec: wallTimeSec,
    steps: lastTrain?.step ?? 0,
    divergedAtStep: train.find((l) => l.loss === null || !Number.isFinite(l.loss))?.step ?? null,
    backend,
    timeToTarget: hit ? { step: hit.step, simTimeSec: hit.simTimeSec, bits: hit.bits } : null,
    target: hasTarget ? t : null,
    workers,
    ...(train.some((l) => l.stalenessByWorker) ? { staleness: stalenessSummary(train) } : {}),
  };
}
