import type { Endpoint } from '../comm/endpoint.ts';
import type { Membership } from './common/rejoin.ts';
import type { ModelParamShape, WorkerContext } from './worker-context.ts';

/** A JSON Schema node (ajv), with `default` and `description` as the experiment schema uses them. */
export type JsonSchema = Record<string, unknown>;

/** The optimizer block of an experiment: `kind` plus the chosen algorithm's own keys. */
export interface OptimizerConfig {
  kind: string;
  [key: string]: unknown;
}

/** What an algorithm's cross-field rules see besides its own block. */
export interface RuleContext {
  workers: number;
  topology: string;
  /** Steps of the run. */
  steps: number;
  /** model.kind (absent for a model module). */
  model?: string;
  /** The data block's kind: a built-in data set, or format csv with its task; samples (rows) of a synthetic set. */
  data?: { dataset?: string; format?: string; task?: string; samples?: number; features?: number };
  /**
   * The run's memory budget (limits.memoryFraction of this machine), what the rest of the config
   * is estimated to take, and the processes that each hold a copy of the data: for rules whose
   * keys size an allocation (encoded-optimization's encoding).
   */
  memory?: { budgetBytes: number; estimatedBytes: number; processes: number };
  /** Throw a located one-line config error at `path` (dotted, from the top: `optimizer.rank`). */
  fail(path: string, message: string): never;
  /**
   * The topology's neighbour graph for gossip (topologies/neighbours.ts), built on demand:
   * ascending adjacency lists, or null for a topology without one (star, switch, tree).
   */
  neighbours?(): number[][] | null;
}

/** What a master (on the parameter-server endpoint of a star, rank n) gets. */
export interface MasterContext {
  server: Endpoint;
  /** The model's initial parameters (the same on every worker). */
  initialParams: Float32Array;
  /** The model's tensors as ranges of the flat vector, with shapes. */
  params: ModelParamShape[];
  steps: number;
  workers: number;
  topology: string;
  seed: number;
  /** Who takes part in which step (crashes; rejoins are decided by the master's rounds). */
  membership: Membership;
  /** The algorithm's `quantities` keys in seconds (absent keys are absent). */
  seconds: Record<string, number>;
}

/**
 * One distributed algorithm: everything the engine needs to know about it, in its own folder
 * (optimizers/<kind>/index.ts), registered by one line in optimizers/registry.ts.
 */
export interface Algorithm<C extends OptimizerConfig = OptimizerConfig> {
  /** `optimizer.kind` in YAML. */
  readonly kind: string;
  /** One line for the docs: what it is and its reference. */
  readonly description: string;
  /**
   * The keys of its `optimizer` block besides `kind` (JSON Schema properties with defaults and
   * descriptions). Keys not listed here are rejected; defaults are written into config.yaml.
   */
  readonly options: Record<string, JsonSchema>;
  /** Keys without a default that the user must write. */
  readonly required?: readonly string[];
  /** Keys holding a time with units (parsed to seconds by `seconds`). */
  readonly quantities?: readonly string[];
  /**
   * Keys of `options` that do not apply given the other keys (e.g. AdamW's betas with an SGD
   * inner optimizer), each with the reason: their defaults are left out of config.yaml, and
   * writing one is an error.
   */
  inapplicable?(cfg: C): Record<string, string>;
  /** Rules involving several keys (or the topology / worker count): call ctx.fail. */
  rules?(cfg: C, ctx: RuleContext): void;
  /**
   * Whether Byzantine workers (fault kind `byzantine`) apply: its workers send the gradient of
   * their step (attacks on vectors replace it, `corruptGradient` in optimizers/common/byzantine.ts)
   * and draw their data through `computeGradient` or `gradientOracle` (label-flip).
   */
  readonly byzantine?: boolean;
  /** Whether the run goes on when a worker crashes (a master carries on without it). */
  toleratesCrash(cfg: C, topology: string): boolean;
  /** Extra rules about the crashes of the fault timeline (e.g. how many the code tolerates). */
  crashRules?(cfg: C, crashedWorkers: number, workers: number): string | null;
  /** One logical worker's side of the algorithm. */
  worker(ctx: WorkerContext, cfg: C): Promise<void>;
  /** The master on the parameter-server endpoint of a star; omitted: nothing runs there. */
  master?(m: MasterContext, cfg: C): Promise<void>;
  /** Extra fields for summary.json (e.g. PowerSGD's per-layer plan). */
  summary?(cfg: C, info: { params: ModelParamShape[]; workers: number; steps?: number; neighbours?: () => number[][] | null }): Record<string, unknown>;
}

/** Type helper for algorithm modules (built-in or plugin). */
export function defineAlgorithm<C extends OptimizerConfig>(a: Algorithm<C>): Algorithm<C> {
  return a;
}
