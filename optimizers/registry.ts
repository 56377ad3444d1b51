import type { Algorithm, OptimizerConfig } from './algorithm.ts';
import { allreduceSgd } from './allreduce-sgd/index.ts';
import { asyncSgd } from './async-sgd/index.ts';
import { backupWorkers } from './backup-workers/index.ts';
import { chocoSgd } from './choco-sgd/index.ts';
import { compressedSgd } from './compressed-sgd/index.ts';
import { co2 } from './co2/index.ts';
import { diloco } from './diloco/index.ts';
import { dpsgd } from './dpsgd/index.ts';
import { eagerDiloco } from './eager-diloco/index.ts';
import { encodedOptimization } from './encoded-optimization/index.ts';
import { gradientCoding } from './gradient-coding/index.ts';
import { oneBitAdam } from './onebit-adam/index.ts';
import { powerSgd } from './powersgd/index.ts';
import { qsparseLocalSgd } from './qsparse-local-sgd/index.ts';
import { sequentialGradientCoding } from './sequential-gradient-coding/index.ts';

/**
 * The one place that maps `optimizer.kind` to code. Adding an algorithm: its folder
 * (optimizers/<kind>/index.ts exporting an Algorithm) and one line here. Plugins
 * (`optimizer: { module: ./x.ts }`) are Algorithms too, loaded by src/config/plugins.ts.
 */
const BUILT_IN: readonly Algorithm<OptimizerConfig>[] = [
  allreduceSgd as Algorithm<OptimizerConfig>,
  compressedSgd as Algorithm<OptimizerConfig>,
  qsparseLocalSgd as Algorithm<OptimizerConfig>,
  powerSgd as Algorithm<OptimizerConfig>,
  gradientCoding as Algorithm<OptimizerConfig>,
  diloco as Algorithm<OptimizerConfig>,
  backupWorkers as Algorithm<OptimizerConfig>,
  asyncSgd as Algorithm<OptimizerConfig>,
  encodedOptimization as Algorithm<OptimizerConfig>,
  sequentialGradientCoding as Algorithm<OptimizerConfig>,
  dpsgd as Algorithm<OptimizerConfig>,
  chocoSgd as Algorithm<OptimizerConfig>,
  eagerDiloco as Algorithm<OptimizerConfig>,
  co2 as Algorithm<OptimizerConfig>,
  oneBitAdam as Algorithm<OptimizerConfig>,
];

const byKind = new Map(BUILT_IN.map((a) => [a.kind, a]));

export const ALGORITHM_KINDS: readonly string[] = BUILT_IN.map((a) => a.kind);

/** The built-in algorithm of a kind, or undefined. */
export function builtInAlgorithm(kind: string): Algorithm<OptimizerConfig> | undefined {
  return byKind.get(kind);
}

/** Every built-in algorithm, in registry order. */
export function builtInAlgorithms(): readonly Algorithm<OptimizerConfig>[] {
  return BUILT_IN;
}
