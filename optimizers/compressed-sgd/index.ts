import { serveCompressedAverages } from '../../comm/communicator.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { communicatorRules } from '../common/communicator-rules.ts';
import { communicatorOptions, sgdOptions } from '../common/options.ts';
import { segmentsOf } from '../worker-context.ts';
import { runCompressedSgd, type CompressedSgdConfig } from './worker.ts';

/** compressed-sgd: SGD on compressed gradients with error feedback (defaults: fp32, EF on). */
export const compressedSgd = defineAlgorithm<CompressedSgdConfig & OptimizerConfig>({
  kind: 'compressed-sgd',
  description: 'synchronous SGD on compressed gradients with error feedback (GRACE-style compressor / memory / communicator).',
  options: { ...sgdOptions(), ...communicatorOptions },
  rules: communicatorRules,
  byzantine: true,
  toleratesCrash: () => false,
  worker: runCompressedSgd,
  master: (m, cfg) => serveCompressedAverages(m.server, cfg, segmentsOf(m.params), m.initialParams.length, m.topology),
});
