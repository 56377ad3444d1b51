import type { Round, Transfer } from './schedule.ts';

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
