import type { Cut, Round, Transfer } from './schedule.ts';
import { pow2Floor } from './schedule.ts';

/**
 * MPICH's handling of a non-power-of-two n (Thakur, Rabenseifner & Gropp 2005): with p' the
 * largest power of two <= n and r = n - p', the first 2r ranks pair up; each even one sends its
 * whole vector to the odd one above it, which reduces and stands for both among the p' ranks
 * of the power-of-two algorithm; at the end the odd one sends the result back.
 */
export interface Fold {
  p: number;
  extra: number;
  /** Rank standing for new rank i of the power-of-two part. */
  real: (i: number) => number;
  pre: Round[];
  post: Round[];
}

export function fold(n: number, lo: number, hi: number): Fold {
  const p = pow2Floor(n);
  const extra = n - p;
  const real = (i: number) => (i < extra ? 2 * i + 1 : i + extra);
  const pre: Round[] = [];
  const post: Round[] = [];
  if (extra > 0) {
    const inT: Transfer[] = [];
    const outT: Transfer[] = [];
    for (let i = 0; i < extra; i++) {
      inT.push({ from: 2 * i, to: 2 * i + 1, start: lo, end: hi, reduce: true });
      outT.push({ from: 2 * i + 1, to: 2 * i, start: lo, end: hi, reduce: false });
    }
    pre.push({ phase: 'fold in', transfers: inT });
    post.push({ phase: 'fold out', transfers: outT });
  }
  return { p, extra, real, pre, post };
}

/**
 * Recursive doubling: lg p' rounds in which partners (new ranks i and i xor 2^k) exchange their
 * whole vectors and add. (floor(lg n) + 2 if n is not a power of two) x (a + 8M/B).
 */
export function recursiveDoublingRounds(n: number, lo: number, hi: number): Round[] {
  if (n < 2) return [];
  const f = fold(n, lo, hi);
  const rounds: Round[] = [...f.pre];
  for (let mask = 1; mask < f.p; mask *= 2) {
    const transfers: Transfer[] = [];
    for (let i = 0; i < f.p; i++) transfers.push({ from: f.real(i), to: f.real(i ^ mask), start: lo, end: hi, reduce: true });
    rounds.push({ phase: 'exchange', transfers });
  }
  rounds.push(...f.post);
  return rounds;
}

/**
 * Rabenseifner's all-reduce: reduce-scatter by recursive halving (distance doubling), then
 * all-gather by recursive doubling back. For a power of two: 2 lg p (a) + 2 (p-1)/p (8M/B);
 * otherwise plus the fold in and out, each a + 8M/B.
 */
export function halvingDoublingRounds(n: number, lo: number, hi: number, cut: Cut): Round[] {
  if (n < 2) return [];
  const f = fold(n, lo, hi);
  const rounds: Round[] = [...f.pre];
  // Each new rank's current range while halving; recorded per level to unwind in the all-gather.
  const range = Array.from({ length: f.p }, () => ({ lo, hi }));
  const history: { lo: number; hi: number }[][] = [];
  for (let mask = 1; mask < f.p; mask *= 2) {
    history.push(range.map((x) => ({ ...x })));
    const transfers: Transfer[] = [];
    const next = range.map((x) => ({ ...x }));
    for (let i = 0; i < f.p; i++) {
      const { lo: a, hi: b } = range[i]!;
      const mid = cut(a, b, 2, 1);
      const lower = (i & mask) === 0;
      // The lower partner keeps the lower half and sends the upper one.
      transfers.push({ from: f.real(i), to: f.real(i ^ mask), start: lower ? mid : a, end: lower ? b : mid, reduce: true });
      next[i] = lower ? { lo: a, hi: mid } : { lo: mid, hi: b };
    }
    range.splice(0, f.p, ...next);
    rounds.push({ phase: 'reduce-scatter', transfers });
  }
  for (let level = history.length - 1, mask = f.p / 2; level >= 0; level--, mask /= 2) {
    const transfers: Transfer[] = [];
    for (let i = 0; i < f.p; i++) {
      const mine = range[i]!;
      transfers.push({ from: f.real(i), to: f.real(i ^ mask), start: mine.lo, end: mine.hi, reduce: false });
    }
    for (let i = 0; i < f.p; i++) range[i] = { ...history[level]![i]! };
    rounds.push({ phase: 'all-gather', transfers });
  }
  rounds.push(...f.post);
  return rounds;
}
