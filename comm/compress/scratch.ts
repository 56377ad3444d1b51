/**
 * Grow-only scratch buffers. Compressors run every step on vectors of the same length, so each
 * keeps its work arrays between calls and only reallocates when a longer vector shows up: the
 * steady state allocates nothing but the payload it returns. Growing keeps the old contents
 * (lists filled incrementally can grow mid-pass).
 */
export function growU32(buf: Uint32Array<ArrayBuffer>, n: number): Uint32Array<ArrayBuffer> {
  if (buf.length >= n) return buf;
  const next = new Uint32Array(Math.max(n, Math.ceil(buf.length * 1.5)));
  next.set(buf);
  return next;
}

export function growF32(buf: Float32Array<ArrayBuffer>, n: number): Float32Array<ArrayBuffer> {
  if (buf.length >= n) return buf;
  const next = new Float32Array(Math.max(n, Math.ceil(buf.length * 1.5)));
  next.set(buf);
  return next;
}
