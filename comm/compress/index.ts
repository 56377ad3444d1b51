/**
 * Public surface of comm/compress: compressors, the factory, error feedback, and the size
 * formulas (for tests only; bits are counted from payload bytes).
 */
export type { Compressor, Uniform } from './compressor.ts';
export { createCompressor, checkCompressorSpec, COMPRESSOR_KINDS, type CompressorSpec, type CompressorKind } from './factory.ts';
export { PerTensor, checkSegments, perTensorOverheadBytes, type Segment, type CompressorFactory } from './per-tensor.ts';
export { Identity, identityBitsPerElement } from './identity.ts';
export { Fp16Cast, Bf16Cast, cast16BitsPerElement } from './cast16.ts';
export { TopK, topkBitsPerElement, sparseBitsPerElement, type SparseOptions } from './topk.ts';
export { RandomK, randomkBitsPerElement, type RandomKOptions } from './randomk.ts';
export { Threshold, thresholdBitsPerElement } from './threshold.ts';
export { Qsgd, qsgdBitsPerElement, qsgdLevelBits } from './qsgd.ts';
export { ScaledSign, signBitsPerElement } from './sign.ts';
export { TernGrad, terngradBitsPerElement } from './terngrad.ts';
export { QsgdTopK, qsgdTopkBitsPerElement } from './qsgd-topk.ts';
export { SignTopK, signTopkBitsPerElement } from './sign-topk.ts';
export { TopKSelector } from './topk-select.ts';
export { countForRatio } from './ratio.ts';
export type { ValueType } from './sparse-codec.ts';
export {
  createErrorFeedback,
  NoFeedback,
  ClassicEF,
  Ef21Worker,
  Ef21Receiver,
  type ErrorFeedback,
  type FeedbackMode,
} from './error-feedback.ts';
