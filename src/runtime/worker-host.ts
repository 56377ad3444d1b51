import { psAllReduce } from '../../comm/collectives/parameter-server.ts';
import { LocalRingAllReduce } from '../../comm/collectives/local-ring-allreduce.ts';
import { allReduce as configuredAllReduce, chooseCollective } from '../../comm/collectives/all-reduce.ts';
import { collectiveOptionsOf } from './collective-setup.ts';
import { configureCollectives, drainPhases } from '../../comm/collectives/configured.ts';
import { leaveStampBoard } from '../../comm/collectives/stamp-board.ts';
import { drainAutoChoices, keepAutoChoices, logAutoChoice } from '../../comm/collectives/auto-choices.ts';
import { Endpoint, type TrafficStats } from '../../comm/endpoint.ts';
import type { InprocRouter } from '../../comm/transport/inproc-router.ts';
import { algorithmOf } from '../../optimizers/index.ts';
import type { GradientOracle, TrainingRows, WorkerContext, WorkerReport } from '../../optimizers/worker-context.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { Rng } from '../util/rng.ts';
import type { LoadedConfig } from '../config/types.ts';
import { ComputeTimeModel } from '../sim/compute-time.ts';
import { StragglerModel } from '../sim/stragglers.ts';
import { FaultSchedule } from '../sim/faults.ts';
import { loadFaultProgram, type FaultProgram } from './fault-program.ts';
import { RunError } from '../util/user-error.ts';
import { BatchSampler } from '../train/data/batch-sampler.ts';
import { initParams, type ModelDef } from '../train/models.ts';
import { Trainer } from '../train/trainer.ts';
import { loadDataset, stragglerDelayOf, modelOf, networkOf, shardsOf, topologyOf } from './run-setup.ts';
import { gossipNeighbours } from '../../topologies/neighbours.ts';
import { loadPlugins, pluginAlgorithm } from './plugins.ts';
import { byzantineRoleOf, withFlippedLabels } from './byzantine-role.ts';

/** What a replacement process continues from (fault timeline `rejoin`, ws): its predecessor's
 * traffic counters, announced before it died. */
export interface ResumeState {
  bytesSent: number;
  messagesSent: number;
  bytesTo: [number, number][];
  /** Payload bytes received per source (the downlink from the server counts in metrics). */
  bytesFrom?: [number, number][];
}

/**
 * Hosts a set of logical workers in this process: creates their endpoints on the router,
 * then (after `prepare`) runs each worker's algorithm loop concurrently.
 */
export class WorkerHost {
  readonly endpoints: Endpoint[];
  private trainer: Trainer | null = null;
  private model: ModelDef | null = null;
  private oracle: GradientOracle | null = null;
  /**
   * Time-only mode (`dtemu simulate`): the same schedule, clocks and payload sizes with no
   * training. The oracle returns a zero gradient and NaN losses, so payloads are all-zero
   * vectors of the real lengths; set before `prepare`.
   */
  timeOnly = false;
  private shards: Int32Array[] = [];
  private data: Dataset | null = null;
  private init: Float32Array | null = null;
  private program: FaultProgram | null = null;
  /** A label-flipping Byzantine worker's oracle (built on first use; byzantine-role.ts). */
  private flippedOracle: (() => GradientOracle) | null = null;

  constructor(
    private readonly lc: LoadedConfig,
    readonly ranks: number[],
    private readonly router: InprocRouter,
    private readonly report: (r: WorkerReport) => void,
    private readonly wallTime: () => number,
    /** ws: tell the coordinator this process is about to crash on purpose (resolves when sent). */
    private readonly announceCrash: (rank: number, step: number, stats: TrafficStats) => Promise<void> = async () => {},
    /** ws: this process replaces a crashed one (fault timeline `rejoin`). */
    private readonly resume: ResumeState | null = null,
    /**
     * True in a ws worker process (one worker): a fault-timeline crash kills the process for
     * real. Not read from transport.kind: `dtemu simulate` runs every rank in the coordinator's
     * process whatever the config's transport says, and must not kill itself.
     */
    private readonly ownProcess = false,
  ) {
    const network = networkOf(lc);
    // Endpoints exist before any data is loaded so early messages from peers are buffered.
    this.endpoints = ranks.map((r) => {
      const ep = new Endpoint(r, lc.config.workers, router, network);
      // A replacement's traffic counters go on from its predecessor's (bits stay cumulative).
      if (resume) {
        ep.stats.bytesSent = resume.bytesSent;
        ep.stats.messagesSent = resume.messagesSent;
        for (const [to, n] of resume.bytesTo) ep.stats.bytesTo.set(to, n);
        for (const [from, n] of resume.bytesFrom ?? []) ep.stats.bytesFrom.set(from, n);
      }
      router.attach(ep);
      return ep;
    });
  }

  /** Load data, build the model, load a fault program (the backend must already be selected). */
  async prepare(): Promise<void> {
    if (this.lc.faultsModulePath) this.program = await loadFaultProgram(this.lc.faultsModulePath);
    await loadPlugins(this.lc);
    const ds = loadDataset(this.lc);
    const model = modelOf(this.lc, ds);
    this.model = model;
    this.data = ds;
    this.shards = shardsOf(this.lc, ds);
    this.init = initParams(model, this.lc.config.seed);
    if (this.timeOnly) {
      this.oracle = timeOnlyOracle(model.size);
      this.flippedOracle = () => this.oracle!;
      return;
    }
    const trainer = new Trainer(model, ds, this.lc.config.data.batchSize);
    this.trainer = trainer;
    const c = this.lc.config;
    this.oracle = {
      paramCount: model.size,
      lossAndGrad: (p, b, g) => trainer.lossAndGrad(p, b, g),
      evaluate: (p) => trainer.evaluate(p, trainer.data.test, c.train.evalSamples),
      lastTiming: () => trainer.timing,
    };
    let flipped: GradientOracle | null = null;
    this.flippedOracle = () => {
      if (flipped) return flipped;
      const t = new Trainer(model, withFlippedLabels(ds), c.data.batchSize);
      return (flipped = { paramCount: model.size, lossAndGrad: (p, b, g) => t.lossAndGrad(p, b, g), evaluate: (p) => trainer.evaluate(p, trainer.data.test, c.train.evalSamples), lastTiming: () => t.timing });
    };
  }

  get modelSize(): number {
    return this.model?.size ?? 0;
  }

  async run(): Promise<void> {
    const model = this.model;
    const oracle = this.oracle;
    const init = this.init;
    if (!model || !oracle || !init) throw new Error('WorkerHost.run before prepare');
    const c = this.lc.config;
    const stragglers = new StragglerModel(
      {
        slow: c.stragglers.slow,
        delay: stragglerDelayOf(this.lc),
      },
      c.seed,
    );
    const timeModel = new ComputeTimeModel(model.flopsPerSample, this.lc.q.speed, stragglers);
    const collective = collectiveOptionsOf(this.lc, undefined, this.ranks.length);
    // All ranks of a ring here, running the ring all-reduce: one batched operation instead of
    // 2n(n-1) routed messages (the same values, bits and times; comm/collectives/local-ring-allreduce.ts).
    const local = c.topology.kind === 'ring' && c.transport.batchCollectives && this.ranks.length === c.workers && !collective.timeAsUnit ? new LocalRingAllReduce(c.workers) : null;
    const allReduce =
      c.topology.kind === 'star'
        ? psAllReduce
        : (ep: Endpoint, data: Float32Array) => {
            if (!local || chooseCollective(collective, ep.size, data.length) !== 'ring') return configuredAllReduce(ep, data, collective);
            if (collective.collective === 'auto') logAutoChoice(ep, ep.now, data.length * 4, 'ring');
            return local.allReduce(ep, data);
          };
    const algorithm = algorithmOf(c.optimizer, pluginAlgorithm(this.lc));
    const tolerated = algorithm.toleratesCrash(c.optimizer, c.topology.kind);
    const faults = new FaultSchedule(this.lc.faults);
    const { report, wallTime, announceCrash, program, shards } = this;
    let neighbourGraph: number[][] | null | undefined;
    const makeContext = (ep: Endpoint, replacement: boolean, onCrash: () => void): WorkerContext => {
      configureCollectives(ep, collective);
      // Every rank makes auto's choice alike: rank 0's are the run's (summary.json's collective).
      if (collective.collective === 'auto' && ep.rank === 0) keepAutoChoices(ep);
      // Messages for the timeline and trace.json's link tracks: bounded to the Gantt's 64 workers.
      if (c.workers <= MAX_TRANSFER_WORKERS) ep.transfers ??= [];
      let started = false;
      const sampler = new BatchSampler(shards[ep.rank]!, c.data.batchSize, c.seed, ep.rank);
      const rng = new Rng(c.seed, 'compression', ep.rank);
      const partitionSamplers = new Map<number, BatchSampler>();
      const byzantine = byzantineRoleOf(ep.rank, { faults, workers: c.workers, seed: c.seed, batchSize: c.data.batchSize, shards, oracle, flippedOracle: this.flippedOracle! });
      const ctx: WorkerContext = {
        rank: ep.rank,
        workers: c.workers,
        ep,
        oracle,
        initialParams: init,
        nextBatch: () => sampler.next(),
        computeTime: (step, measured) => {
          // Called at the start of the step's compute: ep.now is the step's start time. A
          // replacement drops stalls timed while it was down (FaultSchedule.restart).
          if (replacement && !started) faults.restart(ep.rank, ep.now);
          started = true;
          const t = timeModel.stepTime(ep.rank, step, c.data.batchSize);
          const action = program?.({ worker: ep.rank, step, time: ep.now });
          const slow = faults.slowdown(ep.rank, step, ep.now) * (action?.slow ?? 1);
          const stall = faults.stall(ep.rank, step, ep.now) + (action?.stall ?? 0);
          const compute = (c.compute.mode === 'measured' ? measured * stragglers.slowdown(ep.rank) : t.compute) * slow;
          return { compute, delay: t.delay + stall };
        },
        report,
        steps: c.train.steps,
        evalEvery: c.train.evalEvery,
        allReduce: (data) => allReduce(ep, data),
        uniform: () => rng.next(),
        trainingData: () => trainingRowsOf(this.data!, c.data.batchSize),
        partitionBatch: (j) => {
          let s = partitionSamplers.get(j);
          if (!s) partitionSamplers.set(j, (s = new BatchSampler(shards[j]!, c.data.batchSize, c.seed, j)));
          return s.next();
        },
        params: model.params.map((p) => ({ name: p.name, offset: p.offset, size: p.size, shape: p.shape })),
        seed: c.seed,
        topology: c.topology.kind,
        neighbours: () => (neighbourGraph ??= gossipNeighbours(topologyOf(this.lc))),
        replacement,
        crashesAt: (step) => faults.crashStep(ep.rank) === step,
        ...(byzantine ? { byzantine } : {}),
        crash: async (step) => {
          onCrash();
          // Its process's other ranks stop waiting for (and keeping stamps for) it.
          leaveStampBoard(ep);
          if (this.ownProcess) {
            // A real crash: the whole worker process dies (one worker per process, validated).
            // Announced first, so the coordinator can tell it from an unplanned death.
            await announceCrash(ep.rank, step, ep.stats);
            process.kill(process.pid, 'SIGKILL');
            await new Promise(() => {});
          }
          if (!tolerated) {
            throw new RunError(`worker ${ep.rank} crashed at step ${step} (fault timeline); ${c.optimizer.kind} cannot continue without it`);
          }
        },
        reportStep: (step, loss, compute, delay, comm, gradWallSec, gradCpuSec, background, extra) =>
          report({
            type: 'step',
            rank: ep.rank,
            step,
            loss,
            simTime: ep.now,
            compute,
            delay,
            comm,
            bytesSent: ep.stats.bytesSent,
            // Downlink: what this worker has received from the parameter server (rank n).
            bytesFromServer: ep.stats.bytesFrom.get(c.workers) ?? 0,
            wallTime: wallTime(),
            gradWallSec,
            gradCpuSec,
            ...(background && background.length > 0 ? { background } : {}),
            ...phasesOf(ep),
            ...autoChoicesOf(ep),
            ...transfersOf(ep),
            ...(extra?.staleness !== undefined ? { staleness: extra.staleness } : {}),
            ...(byzantine?.attackAt(step) ? { byzantine: byzantine.attackAt(step)! } : {}),
            ...(step === c.train.steps ? { bytesTo: [...ep.stats.bytesTo.entries()].sort((x, y) => x[0] - y[0]) } : {}),
          }),
        };
      return ctx;
    };
    const runWorker = async (ep: Endpoint): Promise<void> => {
      for (let replacement = this.resume !== null; ; replacement = true) {
        let crashed = false;
        await algorithm.worker(makeContext(ep, replacement, () => (crashed = true)), c.optimizer);
        // In process, a crashed worker with a rejoin is replaced by a fresh one (over ws the
        // process is dead and the coordinator starts a new one).
        if (!crashed || !faults.rejoins(ep.rank)) return;
      }
    };
    // Every rank of this process is configured before any runs: units' entry stamps go through
    // the process's board (comm/collectives/stamp-board.ts), whose members must all be known.
    for (const ep of this.endpoints) configureCollectives(ep, collective);
    await Promise.all(this.endpoints.map(runWorker));
  }
}

function trainingRowsOf(ds: Dataset, batchSize: number): TrainingRows {
  return { n: ds.train.n, inputSize: ds.inputSize, inputScale: ds.inputScale, classes: ds.classes, x: ds.train.x, y: ds.train.y, batchSize };
}

/** The time-only oracle: no computation, a zero gradient, NaN loss and accuracy. */
function timeOnlyOracle(paramCount: number): GradientOracle {
  return {
    paramCount,
    lossAndGrad: (_p, _b, grad) => {
      grad.fill(0);
      return Number.NaN;
    },
    evaluate: async () => ({ loss: Number.NaN, accuracy: Number.NaN }),
    lastTiming: () => ({ wallSec: 0, cpuSec: 0 }),
  };
}

/** Runs with more workers record no transfers (the Gantt chart and trace show 64 at most). */
export const MAX_TRANSFER_WORKERS = 64;

/** The messages sent since the last report (arrival null when the receiver timed it: JSON-safe). */
function transfersOf(ep: Endpoint): { transfers?: [number, number, number, number | null][] } {
  const t = ep.drainTransfers();
  return t.length > 0 ? { transfers: t.map(([to, b, s, a]) => [to, b, s, Number.isNaN(a) ? null : a]) } : {};
}

/** The collectives auto ran in the step (rank 0 only; absent otherwise). */
function autoChoicesOf(ep: Endpoint): { collectives?: [number, number, string][] } {
  const c = drainAutoChoices(ep);
  return c.length > 0 ? { collectives: c } : {};
}

/** The step's collective phases for the report (absent when it had none, as on a ring). */
function phasesOf(ep: Endpoint): { phases?: [string, number, number][] } {
  const phases = drainPhases(ep);
  return phases.length > 0 ? { phases } : {};
}
