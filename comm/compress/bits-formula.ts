/**
 * Payload-size formulas, in bits per element of the dense vector. Tests compare them with the
 * bytes the codecs really produce; nothing else may use them (bits are counted from payloads).
 */

/**
 * P(g >= m) for a gap g of a uniformly random k-subset of [0, d) (the gaps, including the one
 * before the first index, are exchangeable): the first m positions hold none of the k indices,
 * C(d - m, k) / C(d, k) = prod_{i<k} (d - m - i) / (d - i).
 */
function gapTail(d: number, k: number, m: number): number {
  if (d - m < k) return 0;
  let logP = 0;
  for (let i = 0; i < k; i++) logP += Math.log1p(-m / (d - i));
  return Math.exp(logP);
}

/**
 * Expected bytes of the delta-varint coding of a uniformly random support of k indices in [0, d):
 * each gap costs 1 byte plus one per power 2^7, 2^14, 2^21, 2^28 it reaches.
 */
export function expectedVarintBytes(d: number, k: number): number {
  let perIndex = 1;
  for (let t = 1; t <= 4; t++) perIndex += gapTail(d, k, 2 ** (7 * t));
  return k * perIndex;
}

/**
 * Expected index-section bytes for a uniformly random support (random-k exactly; top-k and
 * threshold of i.i.d. data too): the smaller of u32 and the expected delta-varint size. (The
 * codec takes the smaller per message; the varint size concentrates tightly around its mean.)
 */
export function expectedIndexBytes(d: number, k: number): number {
  return Math.min(4 * k, expectedVarintBytes(d, k));
}

/**
 * Bits per element of a sparse-family payload: a header, a fixed-size section (values, packed
 * levels or sign bits) and the index section of a uniformly random k-subset of [0, d).
 */
export function sparseFamilyBitsPerElement(d: number, k: number, headerBytes: number, fixedBytes: number): number {
  if (d === 0) return NaN;
  return (8 * (headerBytes + fixedBytes + expectedIndexBytes(d, k))) / d;
}
