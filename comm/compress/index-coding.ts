/**
 * Coding of a sparse support: k strictly increasing indices below d.
 *
 * Two codings, and every message uses whichever is smaller for its own indices (a header flag says
 * which; on a tie u32, whose decode loop is simpler):
 *  - u32: 4 bytes per index.
 *  - delta-varint: the gaps g_j = idx_j - idx_{j-1} - 1 (with idx_{-1} = -1, so a run of adjacent
 *    indices costs one 0x00 byte each) in unsigned LEB128: 7 bits per byte, high bit = "more".
 *    A gap below 2^7 takes 1 byte, below 2^14 2, below 2^21 3, below 2^28 4, else 5.
 * So varint is never larger than u32 unless some gap reaches 2^28, which needs d >= 2^28, and it is
 * strictly smaller as soon as one gap is below 2^21: dense-ish supports (k = 50% of d) cost ~1
 * byte per index, and only a handful of indices spread over a vector of 2^28+ elements favour u32.
 */

/** Bytes of v (0 <= v < 2^32) in unsigned LEB128. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of the delta-varint coding of idx[0..k). */
export function deltaVarintBytes(idx: Uint32Array, k: number): number {
  let prev = -1;
  let total = 0;
  for (let j = 0; j < k; j++) {
    const i = idx[j]!;
    total += varintSize(i - prev - 1);
    prev = i;
  }
  return total;
}

/** Which coding a message of these indices uses, and its size in bytes. */
export function chooseIndexCoding(idx: Uint32Array, k: number): { varint: boolean; bytes: number } {
  const v = deltaVarintBytes(idx, k);
  return v < 4 * k ? { varint: true, bytes: v } : { varint: false, bytes: 4 * k };
}

/**
 * Write idx[0..k) at dst[off..) in the chosen coding; returns the end offset. Throws if the indices
 * are not strictly increasing or not below d (a caller bug that would corrupt the delta coding).
 */
export function writeIndices(idx: Uint32Array, k: number, d: number, varint: boolean, dst: Uint8Array, off: number): number {
  let q = off;
  let prev = -1;
  for (let j = 0; j < k; j++) {
    const i = idx[j]!;
    if (i <= prev || i >= d) throw new Error(`sparse indices must be strictly increasing and below ${d} (index ${j} is ${i} after ${prev})`);
    if (varint) {
      let g = i - prev - 1;
      while (g >= 0x80) {
        dst[q++] = (g & 0x7f) | 0x80;
        g = Math.floor(g / 128); // not >>> 7: g may exceed 2^31 and must stay exact
      }
      dst[q++] = g;
    } else {
      dst[q] = i & 0xff;
      dst[q + 1] = (i >>> 8) & 0xff;
      dst[q + 2] = (i >>> 16) & 0xff;
      dst[q + 3] = i >>> 24;
      q += 4;
    }
    prev = i;
  }
  return q;
}

/**
 * Read k indices from src[off..) into dst[0..k); returns the end offset. Throws on an index at
 * or beyond d or a non-increasing one, so a corrupt payload cannot write outside its vector
 * (typed arrays silently drop out-of-range stores).
 */
export function readIndices(src: Uint8Array, off: number, k: number, d: number, varint: boolean, dst: Uint32Array): number {
  let q = off;
  const end = src.byteLength;
  let prev = -1;
  for (let j = 0; j < k; j++) {
    let i: number;
    if (varint) {
      let b = q < end ? src[q++]! : 0xff;
      let g = b & 0x7f;
      let mul = 128;
      while (b >= 0x80) {
        if (q >= end || mul > 2 ** 28) throw new Error(`corrupt sparse payload: bad varint at byte ${q}`);
        b = src[q++]!;
        g += (b & 0x7f) * mul;
        mul *= 128;
      }
      i = prev + 1 + g;
    } else {
      if (q + 4 > end) throw new Error('corrupt sparse payload: truncated index section');
      i = (src[q]! | (src[q + 1]! << 8) | (src[q + 2]! << 16) | (src[q + 3]! << 24)) >>> 0;
      q += 4;
    }
    if (i >= d || i <= prev) throw new Error(`corrupt sparse payload: index ${i} (after ${prev}) in a vector of ${d}`);
    dst[j] = i;
    prev = i;
  }
  return q;
}
