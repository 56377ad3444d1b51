/**
 * dtemu's programmatic API (`import { ... } from 'dtemu'`): load and validate experiments, run
 * them and sweeps, and write algorithms and compressors as plugins. What the CLI does, without
 * the terminal: errors are thrown (UserError for bad input, RunError for a failed run).
 *
 *   const lc = loadConfig('experiments/quickstart.yaml', { sets: ['train.steps=200'] });
 *   const { dir, summary } = await runExperiment(lc, { outDir: 'runs/mine' });
 */
export { loadConfig, loadConfigText, type LoadOptions } from './config/load.ts';
export type { ExperimentConfig, LoadedConfig } from './config/types.ts';
export { runExperiment, type RunOptions, type RunResult } from './runtime/coordinator.ts';
export { runSweep, type SweepRow } from './runtime/sweep.ts';
export type { Summary } from './metrics/summary.ts';
export type { MetricsLine } from './metrics/aggregator.ts';
export { UserError, RunError } from './util/user-error.ts';

// Writing algorithms: the interface, the worker's context, and the shared pieces built-ins use.
export { defineAlgorithm, type Algorithm, type OptimizerConfig, type MasterContext, type RuleContext } from '../optimizers/algorithm.ts';
export { computeGradient, finishStep, segmentsOf, type WorkerContext, type GradientOracle, type ModelParamShape } from '../optimizers/worker-context.ts';
export { dataParallelSgd } from '../optimizers/common/data-parallel.ts';
export { sgdStep, type SgdHyperparameters } from '../optimizers/common/sgd-update.ts';
export { learningRate, type ScheduleSpec } from '../optimizers/common/lr-schedule.ts';
export { AdamW } from '../optimizers/common/adamw.ts';
export { builtInAlgorithms } from '../optimizers/registry.ts';

// Writing models: a module that builds a tfjs LayersModel or a parameter-list model like the built-ins.
export { defineModel, type ModelPlugin, type BuiltLayersModel } from './train/layers-model.ts';
export type { ParameterListModel, ParamDecl } from './train/param-list-model.ts';

// Writing data sets: a module that returns arrays (checked like npy / IDX files).
export { defineDataset, type DatasetPlugin, type DatasetArrays, type DatasetSplitArrays } from './train/data/dataset-plugin.ts';

// Writing compressors and communication.
export { defineCompressor, type CompressorPlugin } from '../comm/compress/plugin.ts';
export type { Compressor, Uniform } from '../comm/compress/compressor.ts';
export { CompressedExchange } from '../comm/communicator.ts';
export { sendInBackground, awaitBackground, reportLaunched } from '../comm/background.ts';
export { pushAndAwaitReply } from '../comm/collectives/push-pull.ts';
