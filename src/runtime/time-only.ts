import type { LoadedConfig } from '../config/types.ts';
import { UserError } from '../util/user-error.ts';

/**
 * Compressors whose payload size depends on the values compressed: the sparse family's index
 * section is u32 or delta-varint, whichever is smaller for the indices chosen, and threshold's k
 * is the count above tau. Every other compressor's size is a function of the vector's length
 * (none, fp16, bf16, qsgd, sign, terngrad) or of the seeded random stream (randomk), and
 * PowerSGD's of the layer shapes, so time-only runs reproduce their bits exactly.
 */
export const DATA_DEPENDENT_SIZE = ['topk', 'threshold', 'qsgd-topk', 'sign-topk'] as const;

/** Algorithms that put `optimizer.compressor` on the wire. */
const USES_COMPRESSOR = new Set(['compressed-sgd', 'qsparse-local-sgd', 'diloco']);

/**
 * Refuse configurations a time-only run could not reproduce exactly: measured compute times (a
 * function of the wall clock) and payloads whose size depends on the gradient's values.
 */
export function checkTimeOnly(lc: LoadedConfig): void {
  const c = lc.config;
  if (c.compute.mode === 'measured') {
    throw new UserError(`${lc.file}: compute.mode: dtemu simulate needs modelled compute times (no training runs), found "measured"`);
  }
  const kind = (c.optimizer as { compressor?: { kind?: string } }).compressor?.kind;
  if (USES_COMPRESSOR.has(c.optimizer.kind) && kind && (DATA_DEPENDENT_SIZE as readonly string[]).includes(kind)) {
    throw new UserError(
      `${lc.file}: optimizer.compressor.kind: dtemu simulate needs payload sizes that do not depend on the gradient (none, fp16, bf16, qsgd, sign, terngrad, randomk), found "${kind}"`,
    );
  }
}
