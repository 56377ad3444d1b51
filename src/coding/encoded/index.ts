export { DenseEncoding, splitRows, type Encoding } from './encoding.ts';
export { gaussianEncoding } from './gaussian-encoding.ts';
export { fwht, HadamardEncoding, hadamardRows } from './hadamard-encoding.ts';
export { legendre, paleyConference, paleyDataRowsOk, paleyEtfEncoding } from './etf-paley.ts';
export { differenceSetLambda, harmonicDataRowsOk, harmonicEtfEncoding, harmonicFrame, paleyDifferenceSet } from './etf-harmonic.ts';
export { createEncoding, type EncodingSpec } from './factory.ts';
export { EncodedLeastSquares } from './encoded-least-squares.ts';
export { isPowerOfTwo, isPrime } from './sizes.ts';
export { EncodedLbfgs } from './encoded-lbfgs.ts';
