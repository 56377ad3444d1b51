/** Start of chunk i when `length` elements are split into n nearly equal contiguous chunks. */
export function chunkStart(i: number, length: number, n: number): number {
  return Math.floor((i * length) / n);
}

/** Positive modulo. */
export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Byte view of a float32 range, without copying. */
export function f32Bytes(data: Float32Array, start: number, end: number): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset + start * 4, (end - start) * 4);
}

/** Float32 view of a received payload; copies only if the bytes are not 4-byte aligned. */
export function bytesToF32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
