import type { FeedbackMode } from '../comm/compress/error-feedback.ts';
import { runAllreduceSgd } from './allreduce-sgd/worker.ts';
import type { ConfiguredCompressor } from '../comm/communicator.ts';
import { runCompressedSgd } from './compressed-sgd/worker.ts';
import { runQsparseLocalSgd } from './qsparse-local-sgd/worker.ts';
import { runPowerSgd } from './powersgd/worker.ts';
import { runDiloco } from './diloco/worker.ts';
import { runGradientCodingWorker, type CodingStrategy } from './gradient-coding/worker.ts';
import type { WorkerContext } from './worker-context.ts';
import type { SgdHyperparameters } from './common/sgd-update.ts';

/** The optimizer block of an experiment (see src/config/schema.ts for defaults). */
export interface OptimizerConfig extends SgdHyperparameters {
  kind: 'allreduce-sgd' | 'compressed-sgd' | 'qsparse-local-sgd' | 'powersgd' | 'gradient-coding' | 'diloco';
  compressor: ConfiguredCompressor;
  errorFeedback: FeedbackMode;
  aggregation: 'auto' | 'allgather' | 'ring' | 'ps';
  localSteps: number;
  syncEvery?: number[];
  mode: 'sync' | 'async';
  strategy: CodingStrategy;
  scheme: 'cyclic' | 'fractional';
  stragglersTolerated: number;
  rank: number;
  minCompressionRate: number;
  warmStart: boolean;
  startIter: number;
  innerOptimizer: 'adamw' | 'sgd';
  fragments: number;
  overlap: number;
  mixing: number;
  /** diloco on a star: virtual seconds after the first outer gradient within which others count. */
  syncTimeout?: string;
  outerLr: number;
  outerMomentum: number;
}

export const OPTIMIZER_KINDS: readonly OptimizerConfig['kind'][] = ['allreduce-sgd', 'compressed-sgd', 'qsparse-local-sgd', 'powersgd', 'gradient-coding', 'diloco'];

/** Run one logical worker's side of the configured algorithm. */
export function runOptimizer(ctx: WorkerContext, cfg: OptimizerConfig): Promise<void> {
  switch (cfg.kind) {
    case 'allreduce-sgd':
      return runAllreduceSgd(ctx, cfg);
    case 'compressed-sgd':
      return runCompressedSgd(ctx, cfg);
    case 'qsparse-local-sgd':
      return runQsparseLocalSgd(ctx, cfg);
    case 'powersgd':
      return runPowerSgd(ctx, cfg);
    case 'gradient-coding':
      return runGradientCodingWorker(ctx, cfg, ctx.gradientCode);
    case 'diloco':
      return runDiloco(ctx, cfg);
  }
}
