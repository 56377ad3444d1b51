import { ringOwnedChunk, ringRounds } from './ring.ts';
import type { Cut, Round } from './schedule.ts';
import { mapRanks, parallel } from './schedule.ts';
import { binomialBroadcastRounds, binomialReduceRounds } from './tree.ts';

/**
 * Hierarchical all-reduce over groups (islands): binomial reduce inside every group to its
 * first member (the leader), ring all-reduce among the leaders (across the inter links), then
 * binomial broadcast inside every group. Only one vector per group crosses the WAN.
 */
export function hierarchicalRounds(groups: readonly (readonly number[])[], lo: number, hi: number, cut: Cut): Round[] {
  const leaders = groups.map((g) => g[0]!);
  const reduce = parallel(groups.map((g) => mapRanks(binomialReduceRounds(g.length, lo, hi), g, 'intra ')));
  const inter = mapRanks(ringRounds(leaders.length, lo, hi, cut), leaders, 'inter ');
  const bcast = parallel(groups.map((g) => mapRanks(binomialBroadcastRounds(g.length, lo, hi), g, 'intra ')));
  return [...reduce, ...inter, ...bcast];
}

/**
 * 2-D ring on a torus [X, Y] (rank = x + X y): ring reduce-scatter along every row (X ranks),
 * ring all-reduce of the owned chunk along every column (Y ranks: all of a column own the same
 * chunk), ring all-gather along the rows. Neighbour links only:
 * 2(X-1)(a + 8M/(XB)) + 2(Y-1)(a + 8M/(XYB)).
 */
export function twoDimRingRounds(dims: readonly number[], lo: number, hi: number, cut: Cut): Round[] {
  const [X, Y] = dims as [number, number];
  const rows = Array.from({ length: Y }, (_, y) => Array.from({ length: X }, (_, x) => x + X * y));
  const cols = Array.from({ length: X }, (_, x) => Array.from({ length: Y }, (_, y) => x + X * y));
  const rs = parallel(rows.map((row) => mapRanks(ringRounds(X, lo, hi, cut, 'rs'), row, 'row ')));
  const colRounds = cols.map((col, x) => {
    const c = ringOwnedChunk(x, X);
    return mapRanks(ringRounds(Y, cut(lo, hi, X, c), cut(lo, hi, X, c + 1), cut), col, 'column ');
  });
  const ar = parallel(colRounds);
  const ag = parallel(rows.map((row) => mapRanks(ringRounds(X, lo, hi, cut, 'ag'), row, 'row ')));
  return [...rs, ...ar, ...ag];
}
