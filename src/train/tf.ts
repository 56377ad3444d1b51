import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';

/**
 * tfjs, loaded with require: an ESM `import` of this CommonJS package makes Node run its export
 * lexer over every tfjs bundle (~0.3 s of CPU per process, measured); require does not. Types
 * come from `TF` (erased at run time).
 */
const require = createRequire(import.meta.url);
export const tf = require('@tensorflow/tfjs') as typeof TF;
export type { TF };
