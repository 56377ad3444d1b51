import type { TopologyKind, TopologyOptions } from '../../topologies/index.ts';
import type { CollectiveChoice } from '../../comm/collectives/choices.ts';
import type { OptimizerConfig } from '../../optimizers/algorithm.ts';
import type { Fault } from '../sim/faults.ts';
import type { BackendChoice } from '../train/backend.ts';

/** `data.train` / `data.test` of format npy or idx. */
export interface DataFiles {
  x: string;
  y: string;
}

/** The experiment as written in YAML, after defaults are filled (see schema.ts). */
export interface ExperimentConfig {
  name: string;
  seed: number;
  workers: number;
  backend: BackendChoice;
  transport: {
    kind: 'ws' | 'inproc';
    processes?: number;
    host: string;
    port: number;
    spawn: boolean;
    maxMessageBytes: number;
    heartbeatTimeout: string;
    startupTimeout: string;
    batchCollectives: boolean;
  };
  limits: { maxWorkers: number; maxSteps: number; memoryFraction: number };
  data: {
    dataset: 'fashion-mnist' | 'linear' | 'logistic' | 'blobs' | 'moby-dick';
    /** Your own files instead of `dataset` (then `dataset` is absent). */
    format?: 'csv' | 'npy' | 'idx';
    /** csv: one file; npy | idx: inputs and labels files. Absolute once loaded. */
    train?: string | DataFiles;
    test?: string | DataFiles;
    /** A data module instead of `dataset` (absolute path once loaded); its options sit beside. */
    module?: string;
    labelColumn?: number;
    task?: 'classification' | 'regression';
    partition: 'iid' | 'dirichlet' | 'shards';
    alpha: number;
    shardsPerWorker: number;
    batchSize: number;
    samples: number;
    testSamples: number;
    context: number;
    lowercase: boolean;
    minCharCount: number;
    features: number;
    classes: number;
    noise: number;
  };
  model: { kind: 'logistic' | 'linear' | 'mlp' | 'cnn' | 'char-lstm'; hidden: number[]; channels: number[]; kernel: number; embed: number; lstmHidden: number; module?: string };
  optimizer: OptimizerConfig;
  topology: TopologyConfig;
  network: {
    bandwidth: string;
    latency: string;
    sharing: 'max-min' | 'fifo';
    nodes: Record<string, LinkSpecConfig>;
    links: Record<string, LinkSpecConfig>;
    traces: { link?: string; node?: number; file: string }[];
  };
  compute: { mode: 'modelled' | 'measured'; speed: string };
  stragglers: {
    slow: { worker: number; factor: number }[];
    delay: {
      kind: 'none' | 'shifted-exponential' | 'pareto' | 'bimodal';
      shift: string;
      mean: string;
      scale: string;
      shape: number;
      p: number;
      slow: string;
      fast: string;
      workers?: number[];
    };
  };
  faults: FaultConfig[];
  faultsModule?: string;
  sweep?: { grid: Record<string, unknown[]>; seeds?: number[]; parallel: number };
  train: {
    steps: number;
    evalEvery: number;
    evalSamples?: number;
    target: { accuracy?: number; loss?: number };
  };
}

/** Quantities parsed to SI numbers. */
export interface Quantities {
  bandwidth: number;
  latency: number;
  speed: number;
  heartbeatTimeout: number;
  startupTimeout: number;
  delayShift: number;
  delayMean: number;
  delayScale: number;
  delaySlow: number;
  delayFast: number;
  /** The algorithm's time-valued keys (Algorithm.quantities) in seconds. */
  optimizer: Record<string, number>;
}

export interface FaultConfig {
  kind: 'slow' | 'stall' | 'link' | 'crash' | 'partition' | 'byzantine';
  workers?: number[];
  worker?: number;
  factor?: number;
  /** Absent only for byzantine (which starts at `from`); load.ts requires it for the rest. */
  at: number | string;
  attack?: 'sign-flip' | 'gaussian' | 'scaled' | 'label-flip' | 'a-little-is-enough';
  from?: number;
  scale?: number;
  std?: number;
  mean?: number;
  z?: number;
  for?: number | string;
  duration?: string;
  rejoin?: number | string;
  link?: string;
  bandwidth?: string;
  latency?: string;
}

export interface LinkSpecConfig {
  bandwidth?: string;
  latency?: string;
}

export interface TopologyConfig {
  kind: TopologyKind;
  collective: CollectiveChoice;
  server?: LinkSpecConfig;
  shared: boolean;
  up?: string;
  down?: string;
  arity: number;
  oversubscription: number;
  dims?: number[];
  groups?: number | number[];
  intra?: LinkSpecConfig;
  inter?: LinkSpecConfig;
  links?: ([number, number] | { a: number; b: number; bandwidth?: string; latency?: string; weight?: number })[];
  file?: string;
  generate?: { kind: 'ring-lattice' | 'grid' | 'exponential' | 'erdos-renyi'; k?: number; p?: number; dims?: number[] };
}

export interface LoadedConfig {
  config: ExperimentConfig;
  q: Quantities;
  /** topology.* and network.nodes/links parsed to SI units (the topology was built once to check them). */
  topology: TopologyOptions;
  /** The fault timeline with quantities parsed. */
  faults: Fault[];
  /** Absolute path of the programmable fault module, if any. */
  faultsModulePath: string | null;
  file: string;
  /** The text it was loaded from and the --set overrides (to reload it with generated faults). */
  src: string;
  sets: string[];
  /**
   * Fault entries generated by the fault module's `timeline` export: validated and parsed into
   * `faults`, but not into `config.faults` (the resolved config.yaml regenerates them).
   */
  generatedFaults: unknown[];
  /** Absolute paths of the plugin modules the config names (loaded by src/runtime/plugins.ts). */
  plugins?: { algorithm?: string; compressor?: string; model?: string; data?: string };
}
