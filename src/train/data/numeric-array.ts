import { UserError } from '../../util/user-error.ts';

/** What the binary data formats (npy, IDX) decode to: one typed array per file. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * Elements of an array of this shape, refused (before anything is allocated) when its data would
 * take more than `maxBytes`: a hostile header may claim any shape.
 */
export function elementsFor(shape: number[], itemBytes: number, maxBytes: number, file: string): number {
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * itemBytes > maxBytes) {
      throw new UserError(`${file}: shape (${shape.join(', ')}) needs more than ${maxBytes} bytes, expected at most that (limits.memoryFraction of this machine's memory)`);
    }
  }
  return count;
}

/** The i-th value as a JavaScript number (64-bit integers beyond 2^53 lose precision; labels never get there). */
export function valueAt(a: NumericArray, i: number): number {
  return Number(a[i]!);
}
