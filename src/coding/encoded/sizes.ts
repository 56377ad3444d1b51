/** Small integer helpers for the encodings' size rules. */
export function isPrime(p: number): boolean {
  if (!Number.isInteger(p) || p < 2) return false;
  if (p % 2 === 0) return p === 2;
  for (let d = 3; d * d <= p; d += 2) if (p % d === 0) return false;
  return true;
}

export function isPowerOfTwo(m: number): boolean {
  return Number.isInteger(m) && m >= 1 && (m & (m - 1)) === 0 && m <= 2 ** 30;
}

/** Up to `count` integers >= from (ascending) satisfying ok. */
export function nextSatisfying(from: number, count: number, ok: (v: number) => boolean, limit = 1 << 20): number[] {
  const out: number[] = [];
  for (let v = Math.max(1, from); out.length < count && v < limit; v++) if (ok(v)) out.push(v);
  return out;
}

/** Up to `count` integers < from (descending) satisfying ok. */
export function prevSatisfying(from: number, count: number, ok: (v: number) => boolean): number[] {
  const out: number[] = [];
  for (let v = from - 1; out.length < count && v >= 1; v--) if (ok(v)) out.push(v);
  return out;
}
