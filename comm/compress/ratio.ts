/**
 * k = max(1, ceil(ratio * d)) for the ratio-based sparsifiers (and 0 when d = 0).
 *
 * ratio * d is computed in floating point, so a product that should be an integer can land a
 * hair above it (0.07 * 100 = 7.000000000000001) and ceil would add a spurious element. Products
 * within 1e-9 (relative) of an integer count as that integer.
 */
export function countForRatio(d: number, ratio: number): number {
  if (d === 0) return 0;
  const r = ratio * d;
  const n = Math.round(r);
  const k = Math.abs(r - n) <= 1e-9 * Math.max(1, r) ? n : Math.ceil(r);
  return Math.min(d, Math.max(1, k));
}

/** Throw unless 0 < ratio <= 1. */
export function checkRatio(ratio: unknown, who: string): number {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0 || ratio > 1) {
    throw new Error(`${who}: ratio must be a number in (0, 1], got ${JSON.stringify(ratio)}`);
  }
  return ratio;
}

/** Short form of a ratio for compressor names: 0.01 -> "0.01". */
export function fmtRatio(ratio: number): string {
  return String(ratio);
}
