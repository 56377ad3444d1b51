import type { CompactRing, Cut, Round, Schedule, Transfer } from './schedule.ts';
import { LazyRound, pmod } from './schedule.ts';

/**
 * Ring reduce-scatter then all-gather over [lo, hi) among m ranks (local 0..m-1): 2(m-1) rounds,
 * rank r sending chunk (r - s) mod m to r+1 (the pattern of ringAllReduce). With even chunks
 * and one link per neighbour pair it takes 2(m-1)(a + 8M/(mB)) (Patarasuk & Yuan 2009).
 */
export function ringRounds(m: number, lo: number, hi: number, cut: Cut, which: 'all' | 'rs' | 'ag' = 'all'): Round[] {
  const rounds: Round[] = [];
  if (m < 2) return rounds;
  // Chunk boundaries once; transfers written directly (a 1024-rank ring has 2 million).
  const at = ringChunkBounds(m, lo, hi, cut);
  if (which !== 'ag') for (let s = 0; s < m - 1; s++) rounds.push({ phase: 'reduce-scatter', transfers: ringRoundTransfers(at, m, s, 0, true) });
  if (which !== 'rs') for (let s = 0; s < m - 1; s++) rounds.push({ phase: 'all-gather', transfers: ringRoundTransfers(at, m, s, 1, false) });
  return rounds;
}

/** After ringRounds(..., 'rs') local rank r owns chunk (r + 1) mod m of [lo, hi). */
export function ringOwnedChunk(r: number, m: number): number {
  return pmod(r + 1, m);
}

/**
 * The ring all-reduce of n ranks over [0, length) as a schedule that carries its compact form
 * (schedule.ts `CompactRing`): its 2(n-1) rounds are there at once, but each round's n transfers
 * are built the first time something reads them (a byte-moving run, the flow simulator, a plot).
 * Timers and per-rank plans that know the compact form never do. The transfers are those of
 * ringRounds(n, 0, length, cut), built by the same code.
 */
export function ringSchedule(n: number, length: number, cut: Cut): Schedule {
  const compact: CompactRing = { kind: 'ring', n, length, cut };
  const rounds: Round[] = [];
  if (n >= 2) {
    for (let k = 0; k < 2 * (n - 1); k++) {
      const rs = ringRoundReduces(compact, k);
      rounds.push(new LazyRound(rs ? 'reduce-scatter' : 'all-gather', () => ringRoundTransfers(ringChunkBoundaries(compact), n, rs ? k : k - (n - 1), rs ? 0 : 1, rs)));
    }
  }
  return { algorithm: 'ring', n, length, rounds, compact };
}

/**
 * The compact ring a schedule carries, if it is one that matches its own shape (n ranks,
 * 2(n-1) rounds): the one check every reader of the compact form makes before trusting it.
 */
export function compactRingOf(schedule: Schedule): CompactRing | null {
  const c = schedule.compact;
  return c && c.kind === 'ring' && c.n === schedule.n && schedule.rounds.length === (c.n >= 2 ? 2 * (c.n - 1) : 0) ? c : null;
}


/** Whether round k of a compact ring is a reduce-scatter round (else all-gather). */
export function ringRoundReduces(ring: CompactRing, k: number): boolean {
  return k < ring.n - 1;
}

/** The chunk rank r sends in round k (0 <= k < 2(n-1)) of a compact ring. */
export function ringChunkSent(ring: CompactRing, k: number, r: number): number {
  const n = ring.n;
  return k < n - 1 ? pmod(r - k, n) : pmod(r + 1 - (k - (n - 1)), n);
}

/** The chunk boundaries at(0..n) of a compact ring: chunk c is [at(c), at(c + 1)) (computed once per ring). */
export function ringChunkBoundaries(ring: CompactRing): readonly number[] {
  let at = boundaries.get(ring);
  if (!at) {
    at = ringChunkBounds(ring.n, 0, ring.length, ring.cut);
    boundaries.set(ring, at);
  }
  return at;
}
const boundaries = new WeakMap<CompactRing, readonly number[]>();

/**
 * One rank's sends and receives per round of a compact ring (what run-schedule's planOf finds by
 * filtering the materialised rounds, in O(n) instead of O(n^2) and without building them).
 */
export function ringRankPlan(ring: CompactRing, rank: number): { sends: Transfer[][]; recvs: Transfer[][] } {
  const n = ring.n;
  const at = ringChunkBoundaries(ring);
  const left = rank === 0 ? n - 1 : rank - 1;
  const sends: Transfer[][] = [];
  const recvs: Transfer[][] = [];
  for (let k = 0; n >= 2 && k < 2 * (n - 1); k++) {
    const reduce = ringRoundReduces(ring, k);
    sends.push([ringTransfer(at, n, rank, ringChunkSent(ring, k, rank), reduce)]);
    recvs.push([ringTransfer(at, n, left, ringChunkSent(ring, k, left), reduce)]);
  }
  return { sends, recvs };
}

function ringChunkBounds(m: number, lo: number, hi: number, cut: Cut): number[] {
  return Array.from({ length: m + 1 }, (_, c) => cut(lo, hi, m, c));
}

function ringTransfer(at: readonly number[], m: number, r: number, c: number, reduce: boolean): Transfer {
  return { from: r, to: r + 1 === m ? 0 : r + 1, start: at[c]!, end: at[c + 1]!, reduce };
}

/** Round s of a reduce-scatter (shift 0) or all-gather (shift 1): rank r sends chunk (r + shift - s) mod m. */
function ringRoundTransfers(at: readonly number[], m: number, s: number, shift: number, reduce: boolean): Transfer[] {
  const transfers: Transfer[] = new Array(m);
  for (let r = 0; r < m; r++) transfers[r] = ringTransfer(at, m, r, pmod(r + shift - s, m), reduce);
  return transfers;
}


