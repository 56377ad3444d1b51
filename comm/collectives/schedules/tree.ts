import type { Cut, Round, Transfer } from './schedule.ts';

/**
 * Binomial-tree reduce to local rank 0 (ceil(lg m) rounds: in round k ranks with bit k set send
 * their partial sum to rank - 2^k and drop out).
 */
export function binomialReduceRounds(m: number, lo: number, hi: number): Round[] {
  const rounds: Round[] = [];
  for (let mask = 1; mask < m; mask *= 2) {
    const transfers: Transfer[] = [];
    for (let r = 0; r < m; r++) if ((r & mask) !== 0 && (r & (mask - 1)) === 0) transfers.push({ from: r, to: r - mask, start: lo, end: hi, reduce: true });
    rounds.push({ phase: 'tree reduce', transfers });
  }
  return rounds;
}

/** Binomial-tree broadcast from local rank 0 (ceil(lg m) rounds, the reduce in reverse). */
export function binomialBroadcastRounds(m: number, lo: number, hi: number): Round[] {
  const rounds: Round[] = [];
  let top = 1;
  while (top < m) top *= 2;
  for (let mask = top / 2; mask >= 1; mask /= 2) {
    const transfers: Transfer[] = [];
    for (let r = 0; r < m; r += 2 * mask) if (r + mask < m) transfers.push({ from: r, to: r + mask, start: lo, end: hi, reduce: false });
    rounds.push({ phase: 'tree broadcast', transfers });
  }
  return rounds;
}

/**
 * Tree all-reduce: binomial reduce to rank 0, binomial broadcast back. 2 ceil(lg n) (a + 8M/B):
 * the short-message algorithm of MPICH's reduce and broadcast.
 */
export function treeRounds(n: number, lo: number, hi: number): Round[] {
  return [...binomialReduceRounds(n, lo, hi), ...binomialBroadcastRounds(n, lo, hi)];
}

/**
 * Double binary tree (after NCCL): two binary trees, the heap tree over ranks 0..n-1 (parent of
 * index i is (i-1)/2) and the same tree over the ranks in reverse order, so a rank that is inside
 * one tree is (nearly always) a leaf of the other. Each tree reduces one half of the vector up to
 * its root and broadcasts it back down, level by level; both run in the same rounds. Every
 * interior node receives from two children at once, so its NIC is shared (max-min): on a uniform
 * switch with n = 3 each of the 2 rounds takes a + 8M/B.
 */
export function doubleTreeRounds(n: number, lo: number, hi: number, cut: Cut): Round[] {
  if (n < 2) return [];
  const depth = Math.floor(Math.log2(n));
  const mid = cut(lo, hi, 2, 1);
  const trees = [
    { rank: (i: number) => i, start: lo, end: mid },
    { rank: (i: number) => n - 1 - i, start: mid, end: hi },
  ];
  const levelOf = (i: number) => Math.floor(Math.log2(i + 1));
  const rounds: Round[] = [];
  for (let level = depth; level >= 1; level--) {
    const transfers: Transfer[] = [];
    for (const t of trees) for (let i = 0; i < n; i++) if (levelOf(i) === level) transfers.push({ from: t.rank(i), to: t.rank((i - 1) >> 1), start: t.start, end: t.end, reduce: true });
    rounds.push({ phase: 'double-tree reduce', transfers });
  }
  for (let level = 1; level <= depth; level++) {
    const transfers: Transfer[] = [];
    for (const t of trees) for (let i = 0; i < n; i++) if (levelOf(i) === level) transfers.push({ from: t.rank((i - 1) >> 1), to: t.rank(i), start: t.start, end: t.end, reduce: false });
    rounds.push({ phase: 'double-tree broadcast', transfers });
  }
  return rounds;
}
