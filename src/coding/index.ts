export {
  createGradientCode,
  GradientCodingError,
  RESIDUAL_TOL,
  VERIFY_WORK,
  DECODER_CACHE_SIZE,
  type CyclicConstruction,
  type Decoding,
  type GradientCode,
  type GradientCodeKind,
  type GradientCodeOptions,
} from './gradient-code.ts';
export { encode, combine, decodeGradient, firstResponders } from './combine.ts';
export { leastSquares, solveSquare, type LeastSquaresResult } from './linalg.ts';
