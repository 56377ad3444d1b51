import { pmod, pow2Floor, type Round, type Schedule, type Transfer } from './schedule.ts';

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
 * Every rank of a process builds the same schedule from the same declarations (a 256-rank ring
 * all-gather has 65,280 transfers): the last few are kept per builder by their declarations, so
 * a process builds each once. Schedules are immutable data.
 */
function kept(cache: Map<string, Schedule>, key: string, build: () => Schedule): Schedule {
  let s = cache.get(key);
  if (!s) {
    s = build();
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(key, s);
  }
  return s;
}
const ringKept = new Map<string, Schedule>();
const doublingKept = new Map<string, Schedule>();
const declaredKept = new Map<string, Schedule>();

/** ringAllGather (allgather.ts): in round s, rank r forwards rank (r - s)'s payload to r + 1. */
export function ringAllGatherSized(bytes: readonly number[]): Schedule {
  return kept(ringKept, bytes.join(','), () => ringOf(bytes));
}

function ringOf(bytes: readonly number[]): Schedule {
  const n = bytes.length;
  const rounds: Round[] = [];
  for (let s = 0; s < n - 1; s++) {
    rounds.push({ phase: 'all-gather', transfers: Array.from({ length: n }, (_, r) => sized(r, pmod(r + 1, n), bytes[pmod(r - s, n)]!)) });
  }
  return eager('ring all-gather', n, rounds);
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
  return kept(doublingKept, bytes.join(','), () => doublingOf(bytes));
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
  return kept(declaredKept, `${algorithm}|${phase}|${sends.map((l) => l.join(',')).join(';')}`, () => declaredOf(algorithm, phase, sends));
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
