import type { Cut, Round } from './schedule.ts';
import { pmod } from './schedule.ts';

/**
 * Ring reduce-scatter then all-gather over [lo, hi) among m ranks (local 0..m-1): 2(m-1) rounds,
 * rank r sending chunk (r - s) mod m to r+1 (the pattern of ringAllReduce). With even chunks
 * and one link per neighbour pair it takes 2(m-1)(a + 8M/(mB)) (Patarasuk & Yuan 2009).
 */
export function ringRounds(m: number, lo: number, hi: number, cut: Cut, which: 'all' | 'rs' | 'ag' = 'all'): Round[] {
  const rounds: Round[] = [];
  if (m < 2) return rounds;
  const chunk = (c: number) => ({ start: cut(lo, hi, m, c), end: cut(lo, hi, m, c + 1) });
  if (which !== 'ag') {
    for (let s = 0; s < m - 1; s++) {
      rounds.push({ phase: 'reduce-scatter', transfers: Array.from({ length: m }, (_, r) => ({ from: r, to: pmod(r + 1, m), ...chunk(pmod(r - s, m)), reduce: true })) });
    }
  }
  if (which !== 'rs') {
    for (let s = 0; s < m - 1; s++) {
      rounds.push({ phase: 'all-gather', transfers: Array.from({ length: m }, (_, r) => ({ from: r, to: pmod(r + 1, m), ...chunk(pmod(r + 1 - s, m)), reduce: false })) });
    }
  }
  return rounds;
}

/** After ringRounds(..., 'rs') local rank r owns chunk (r + 1) mod m of [lo, hi). */
export function ringOwnedChunk(r: number, m: number): number {
  return pmod(r + 1, m);
}
