import type { OptimizerConfig } from '../../optimizers/index.ts';
import type { Fault } from '../sim/faults.ts';
import type { BackendChoice } from '../train/backend.ts';

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
  };
  data: {
    dataset: 'fashion-mnist' | 'linear' | 'logistic' | 'blobs';
    partition: 'iid' | 'dirichlet' | 'shards';
    alpha: number;
    shardsPerWorker: number;
    batchSize: number;
    samples: number;
    testSamples: number;
    features: number;
    classes: number;
    noise: number;
  };
  model: { kind: 'logistic' | 'linear' | 'mlp' | 'cnn'; hidden: number[]; channels: number[]; kernel: number };
  optimizer: OptimizerConfig;
  topology: { kind: 'ring' | 'star' };
  network: { bandwidth: string; latency: string };
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
  delayShift: number;
  delayMean: number;
  delayScale: number;
  delaySlow: number;
  delayFast: number;
  /** diloco syncTimeout in seconds, or null. */
  syncTimeout: number | null;
}

export interface FaultConfig {
  kind: 'slow' | 'stall' | 'link' | 'crash' | 'partition';
  workers?: number[];
  worker?: number;
  factor?: number;
  at: number | string;
  for?: number | string;
  duration?: string;
  link?: string;
  bandwidth?: string;
  latency?: string;
}

export interface LoadedConfig {
  config: ExperimentConfig;
  q: Quantities;
  /** The fault timeline with quantities parsed. */
  faults: Fault[];
  /** Absolute path of the programmable fault module, if any. */
  faultsModulePath: string | null;
  file: string;
}
