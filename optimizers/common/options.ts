import { COMPRESSOR_KINDS } from '../../comm/compress/factory.ts';
import type { JsonSchema } from '../algorithm.ts';

/*
 * Schema fragments that several algorithms share. Each algorithm lists the ones that apply to it
 * (and overrides defaults with its reference's), so config.yaml holds only keys that apply.
 */

/** torch.optim.SGD's hyperparameters and a learning-rate schedule. */
export function sgdOptions(defaults: { lr?: number; momentum?: number } = {}, who = ''): Record<string, JsonSchema> {
  return {
    lr: { type: 'number', exclusiveMinimum: 0, default: defaults.lr ?? 0.1, description: `${who}Learning rate.` },
    momentum: { type: 'number', minimum: 0, maximum: 1, exclusiveMaximum: 1, default: defaults.momentum ?? 0, description: `${who}Heavy-ball momentum (torch.optim.SGD semantics).` },
    nesterov: { type: 'boolean', default: false, description: `${who}Nesterov momentum.` },
    weightDecay: { type: 'number', minimum: 0, default: 0, description: `${who}L2 weight decay added to the gradient.` },
    schedule: scheduleOption,
  };
}

/** torch.optim.Adam(W)'s betas and eps, with torch's defaults. */
export function adamOptions(who = ''): Record<'betas' | 'eps', JsonSchema> {
  return {
    betas: { type: 'array', items: { type: 'number', minimum: 0, exclusiveMaximum: 1 }, minItems: 2, maxItems: 2, default: [0.9, 0.999], description: `${who}(beta1, beta2) (torch default (0.9, 0.999)).` },
    eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: `${who}epsilon (torch default 1e-8).` },
  };
}

export const scheduleOption: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'Learning-rate schedule over steps.',
  properties: {
    kind: { enum: ['constant', 'step', 'cosine'], default: 'constant', description: 'constant; step: multiply by gamma every `every` steps; cosine: to minLr at the last step.' },
    every: { type: 'integer', minimum: 1, default: 1000, description: 'step: period in steps.' },
    gamma: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'step: multiplicative factor.' },
    minLr: { type: 'number', minimum: 0, default: 0, description: 'cosine: final learning rate.' },
    warmup: { type: 'integer', minimum: 0, default: 0, description: 'Linear warm-up steps.' },
  },
};

/** The compressor block (its keys per kind are checked by comm/compress/factory.ts). */
export const compressorOption: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: { kind: 'none' },
  required: ['kind'],
  description: 'What each worker sends (see "Compressors" in the README); only the keys of the chosen kind apply.',
  properties: {
    kind: { enum: [...COMPRESSOR_KINDS], description: 'none (fp32), fp16, bf16, topk, randomk, threshold, qsgd, sign (scaled sign), terngrad, qsgd-topk, sign-topk.' },
    ratio: { type: 'number', description: 'topk, randomk, qsgd-topk, sign-topk: fraction of elements kept, in (0, 1].' },
    levels: { type: 'integer', description: 'qsgd, qsgd-topk: quantisation levels s >= 1.' },
    tau: { type: 'number', description: 'threshold: keep |x| >= tau.' },
    scaled: { type: 'boolean', description: 'randomk: multiply by d/k to be unbiased (default false).' },
    values: { enum: ['f32', 'f16'], description: 'topk, randomk, threshold: precision of the kept values on the wire (default f32).' },
    perTensor: { type: 'boolean', description: 'Compress each tensor separately (k per tensor) instead of the whole vector (default false).' },
    bucket: { type: 'integer', minimum: 1, description: 'Compress consecutive blocks of this many elements separately, each with its own norm/scale (QSGD uses 512); excludes perTensor.' },
  },
};

/** The communicator's keys: compressor, error feedback, aggregation path (comm/communicator.ts). */
export const communicatorOptions: Record<string, JsonSchema> = {
  compressor: compressorOption,
  errorFeedback: { enum: ['none', 'ef', 'ef21'], default: 'ef', description: 'Error feedback: ef (classic, e <- e + g - C(e + g)), ef21, or none.' },
  aggregation: {
    enum: ['auto', 'allgather', 'ring', 'ps'],
    default: 'auto',
    description: 'How compressed payloads are combined: auto = ring for dense compressors (none/fp16/bf16), ps on a star, allgather otherwise.',
  },
};
