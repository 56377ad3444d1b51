import type { Cut, Round, Transfer } from './schedule.ts';
import { pmod } from './schedule.ts';

/**
 * Ring reduce-scatter then all-gather over [lo, hi) among m ranks (local 0..m-1): 2(m-1) rounds,
 * rank r sending chunk (r - s) mod m to r+1 (the pattern of ringAllReduce). With even chunks
 * and one link per neighbour pair it takes 2(m-1)(a + 8M/(mB)) (Patarasuk & Yuan 2009).
 */
export function ringRounds(m: number, lo: number, hi: number, cut: Cut, which: 'all' | 'rs' | 'ag' = 'all'): Round[] {
  const rounds: Round[] = [];
  if (m < 2) return rounds;
  // Chunk boundaries once; transfers written directly (a 1024-rank ring has 2 million).
  const at = Array.from({ length: m + 1 }, (_, c) => cut(lo, hi, m, c));
  const round = (s: number, shift: number, reduce: boolean): Round => {
    const transfers: Transfer[] = new Array(m);
    for (let r = 0; r < m; r++) {
      const c = pmod(r + shift - s, m);
      transfers[r] = { from: r, to: r + 1 === m ? 0 : r + 1, start: at[c]!, end: at[c + 1]!, reduce };
    }
    return { phase: reduce ? 'reduce-scatter' : 'all-gather', transfers };
  };
  if (which !== 'ag') for (let s = 0; s < m - 1; s++) rounds.push(round(s, 0, true));
  if (which !== 'rs') for (let s = 0; s < m - 1; s++) rounds.push(round(s, 1, false));
  return rounds;
}

/** After ringRounds(..., 'rs') local rank r owns chunk (r + 1) mod m of [lo, hi). */
export function ringOwnedChunk(r: number, m: number): number {
  return pmod(r + 1, m);
}
