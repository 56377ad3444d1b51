import { LazyRound, pmod, pow2Floor, type CompactSizedRing, type Round, type Schedule, type Transfer } from './schedule.ts';

/**
 * Schedules of collectives whose messages have sizes of their own (variable payloads, bundles,
 * gossip rounds), built by every rank from the sizes each rank declared in its entry stamp
 * (run-sized-unit.ts), so that all ranks time the same flows. They are eager (Schedule.eager):
 * timed with the semantics of the per-message code they describe. Transfers carry `bytes`; their
 * element ranges are empty (nothing is reduced: the code moves the bytes itself).
 */

function sized(from: number, to: number, bytes: number): Transfer {
  return { from, to, start: 0, end: 0, reduce: false, bytes };
}

function eager(algorithm: string, n: number, rounds: Round[]): Schedule {
  return { algorithm, n, length: 0, rounds, eager: true };
}

/**
 * A process builds each schedule once (its ranks share it: stamp-board.ts); the last few are kept
 * by their declarations across calls (a top-k payload has the same size every step), at most
 * KEPT_TRANSFERS transfers in all (a 1024-rank recursive doubling has 10,240, a ring all-gather
 * 1,047,552 once its lazy rounds are built). Schedules are immutable data.
 */
const KEPT_TRANSFERS = 1 << 20;
interface KeptCache {
  map: Map<string, { schedule: Schedule; transfers: number }>;
  total: number;
}
function kept(cache: KeptCache, key: string, weight: (s: Schedule) => number, build: () => Schedule): Schedule {
  const hit = cache.map.get(key);
  if (hit) return hit.schedule;
  const schedule = build();
  const transfers = weight(schedule);
  cache.map.set(key, { schedule, transfers });
  cache.total += transfers;
  while (cache.map.size > 8 || (cache.total > KEPT_TRANSFERS && cache.map.size > 1)) {
    const [k, v] = cache.map.entries().next().value!;
    cache.map.delete(k);
    cache.total -= v.transfers;
  }
  return schedule;
}
const ringKept: KeptCache = { map: new Map(), total: 0 };
const doublingKept: KeptCache = { map: new Map(), total: 0 };
const countTransfers = (s: Schedule) => s.rounds.reduce((x, r) => x + r.transfers.length, 0);

/**
 * ringAllGather (allgather.ts): in round s, rank r forwards rank (r - s)'s payload to r + 1. The
 * schedule carries its compact form (the sizes: schedule.ts CompactSizedRing), which the timer of
 * uncontended eager schedules reads (eager-alone-time.ts); its rounds' transfers are built only
 * when something reads them (the flow simulation where senders contend).
 */
export function ringAllGatherSized(bytes: readonly number[]): Schedule {
  return kept(ringKept, bytes.join(','), (s) => s.n * (s.n - 1), () => ringOf(bytes));
}

function ringOf(bytes: readonly number[]): Schedule {
  const n = bytes.length;
  const compact: CompactSizedRing = { kind: 'sized-ring', n, bytes: [...bytes] };
  const rounds: Round[] = [];
  for (let s = 0; s < n - 1; s++) rounds.push(new LazyRound('all-gather', () => Array.from({ length: n }, (_, r) => sized(r, pmod(r + 1, n), compact.bytes[pmod(r - s, n)]!))));
  return { ...eager('ring all-gather', n, rounds), compact };
}



/** The compact form of a sized ring all-gather, if `schedule` is one (checked against its shape). */
export function compactSizedRingOf(schedule: Schedule): CompactSizedRing | null {
  const c = schedule.compact;
  return c && c.kind === 'sized-ring' && c.n === schedule.n && c.bytes.length === c.n && schedule.rounds.length === Math.max(0, c.n - 1) ? c : null;
}

/** Size of a recursive-doubling bundle (allgather-recursive-doubling.ts): u32 count, then u32 rank, u32 length and the bytes of each payload. */
function bundleBytes(payloads: number): number {
  return 4 + payloads;
}

/**
 * recursiveDoublingAllGather (allgather-recursive-doubling.ts) with MPICH's fold: round 0, the
 * first 2(n - p) ranks' even members hand their payload to the odd one; rounds 1..lg p, partners
 * (new ranks i, i xor 2^(k-1)) exchange bundles of what they hold (an aligned block of 2^(k-1)
 * new ranks); round lg p + 1, the odd members send everything back.
 */
export function recursiveDoublingAllGatherSized(bytes: readonly number[]): Schedule {
  return kept(doublingKept, bytes.join(','), countTransfers, () => doublingOf(bytes));
}

function doublingOf(bytes: readonly number[]): Schedule {
  const n = bytes.length;
  const p = pow2Floor(n);
  const extra = n - p;
  const lg = Math.log2(p);
  const rounds: Round[] = Array.from({ length: lg + 2 }, () => ({ phase: 'all-gather', transfers: [] as Transfer[] }));
  if (n <= 1) return eager('recursive-doubling all-gather', n, []);
  // Bytes a new rank's payloads add to a bundle: (8 + length) per real rank folded into it.
  const weight = (j: number) => (j < extra ? 16 + bytes[2 * j]! + bytes[2 * j + 1]! : 8 + bytes[j + extra]!);
  const real = (i: number) => (i < extra ? 2 * i + 1 : i + extra);
  const prefix = new Float64Array(p + 1);
  for (let j = 0; j < p; j++) prefix[j + 1] = prefix[j]! + weight(j);
  for (let r = 0; r < 2 * extra; r += 2) rounds[0]!.transfers.push(sized(r, r + 1, bytes[r]!));
  for (let mask = 1, k = 1; mask < p; mask *= 2, k++) {
    for (let i = 0; i < p; i++) {
      const lo = i - (i % mask);
      rounds[k]!.transfers.push(sized(real(i), real(i ^ mask), bundleBytes(prefix[lo + mask]! - prefix[lo]!)));
    }
  }
  for (let r = 1; r < 2 * extra; r += 2) rounds[lg + 1]!.transfers.push(sized(r, r - 1, bundleBytes(prefix[p]!)));
  return eager('recursive-doubling all-gather', n, rounds.filter((x) => x.transfers.length > 0));
}

/**
 * One round in which every rank sends the messages it declared, in its order: `sends[r]` is a
 * flat list (to, bytes, to, bytes, ...) (a gossip round: the same payload to each neighbour;
 * 1-bit Adam's all-to-all: a chunk to each rank). Declarations are hostile until checked here:
 * ranks in range and not the sender, sizes whole and not negative.
 */
export function declaredRoundSized(algorithm: string, phase: string, sends: readonly (readonly number[])[]): Schedule {
  // Not kept across calls: a key of every declaration would cost as much as the schedule (and a
  // process builds each round's once: run-sized-unit.ts).
  return declaredOf(algorithm, phase, sends);
}

function declaredOf(algorithm: string, phase: string, sends: readonly (readonly number[])[]): Schedule {
  const n = sends.length;
  const transfers: Transfer[] = [];
  sends.forEach((list, r) => {
    if (list.length % 2 !== 0) throw new Error(`${algorithm}: rank ${r} declared ${list.length} values, expected (to, bytes) pairs`);
    for (let i = 0; i < list.length; i += 2) {
      const to = list[i]!;
      const b = list[i + 1]!;
      if (!Number.isInteger(to) || to < 0 || to >= n || to === r) throw new Error(`${algorithm}: rank ${r} declared a message to ${to}, expected another rank of 0..${n - 1}`);
      if (!Number.isSafeInteger(b) || b < 0) throw new Error(`${algorithm}: rank ${r} declared a message of ${b} bytes, expected a whole number >= 0`);
      transfers.push(sized(r, to, b));
    }
  });
  return eager(algorithm, n, [{ phase, transfers }]);
}
