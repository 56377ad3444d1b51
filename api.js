// The package entry for plain JavaScript (`import { runExperiment } from 'dtemu'` under `node`):
// registers tsx's loader, then re-exports the TypeScript API (src/api.ts; types come from there).
import { register } from 'tsx/esm/api';

register();
const api = await import('./src/api.ts');
export const {
  loadConfig,
  loadConfigText,
  runExperiment,
  runSweep,
  UserError,
  RunError,
  defineAlgorithm,
  computeGradient,
  finishStep,
  segmentsOf,
  dataParallelSgd,
  sgdStep,
  learningRate,
  AdamW,
  builtInAlgorithms,
  defineCompressor,
  defineModel,
  defineDataset,
  CompressedExchange,
  sendInBackground,
  awaitBackground,
  pushAndAwaitReply,
} = api;
