import type { Endpoint } from '../endpoint.ts';
import { pow2Floor } from './schedules/schedule.ts';
import { checkDeclared, runSizedUnit, timedMover, untimedMover, type DeferTimer, type Mover, type UnitTimer } from './run-sized-unit.ts';
import { recursiveDoublingAllGatherSized } from './schedules/sized.ts';

/** Payloads of several ranks in one message: u32 count, then (u32 rank, u32 length, bytes) each. */
function bundle(parts: Map<number, Uint8Array>): Uint8Array {
  let size = 4;
  for (const p of parts.values()) size += 8 + p.byteLength;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.size, true);
  let o = 4;
  for (const [r, p] of [...parts.entries()].sort((x, y) => x[0] - y[0])) {
    dv.setUint32(o, r, true);
    dv.setUint32(o + 4, p.byteLength, true);
    out.set(p, o + 8);
    o += 8 + p.byteLength;
  }
  return out;
}

/** Parse a bundle (hostile until checked: counts, ranks and lengths must fit). */
function unbundle(b: Uint8Array, n: number, into: Map<number, Uint8Array>): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.byteLength < 4) throw new Error('all-gather bundle: shorter than its header');
  const count = dv.getUint32(0, true);
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 8 > b.byteLength) throw new Error('all-gather bundle: truncated entry header');
    const r = dv.getUint32(o, true);
    const len = dv.getUint32(o + 4, true);
    if (r >= n || o + 8 + len > b.byteLength) throw new Error(`all-gather bundle: bad entry (rank ${r}, ${len} bytes)`);
    into.set(r, b.subarray(o + 8, o + 8 + len));
    o += 8 + len;
  }
}

/**
 * All-gather of variable-size payloads by recursive doubling: lg p rounds in which partners
 * (new ranks i and i xor 2^k) exchange everything they hold, so a rank receives n-1 payloads in
 * lg p messages instead of the ring's n-1. A non-power-of-two n is folded as MPICH does (the
 * first 2r ranks pair up before and after). Bundles carry an 8-byte header per payload (counted:
 * it is sent). Returns payloads indexed by rank. With `unit` (max-min on a cut-through topology)
 * the all-gather is timed as a unit from every rank's declared size (run-sized-unit.ts).
 */
export async function recursiveDoublingAllGather(ep: Endpoint, payload: Uint8Array, unit?: UnitTimer, defer?: DeferTimer): Promise<Uint8Array[]> {
  const op = ep.nextOp();
  if (!unit || ep.size === 1) return gatherDoubling(ep, payload, op, timedMover(ep));
  const what = 'recursive-doubling all-gather';
  return runSizedUnit(ep, op, payload.byteLength, what, recursiveDoublingAllGatherSized, unit, async (sizes) => {
    const out = await gatherDoubling(ep, payload, op, untimedMover(ep));
    out.forEach((p, r) => checkDeclared(what, r, p.byteLength, sizes[r]!));
    return out;
  }, defer);
}

/** Recursive doubling's messages with a given mover (the unit-timed auto all-gather moves its bytes with it). */
export async function gatherDoubling(ep: Endpoint, payload: Uint8Array, op: number, move: Mover): Promise<Uint8Array[]> {
  const n = ep.size;
  const r = ep.rank;
  const have = new Map<number, Uint8Array>([[r, payload]]);
  const p = pow2Floor(n);
  const extra = n - p;
  const finish = () => Array.from({ length: n }, (_, k) => {
    const x = have.get(k);
    if (!x) throw new Error(`all-gather: no payload of rank ${k} on rank ${r}`);
    return x;
  });
  if (n === 1) return finish();
  const lg = Math.log2(p);
  if (r < 2 * extra && r % 2 === 0) {
    // Folded out: hand the payload to the odd neighbour, get everything back at the end.
    move.send(r + 1, op, 0, payload);
    unbundle((await move.recv(r + 1, op, lg + 1)).payload, n, have);
    return finish();
  }
  if (r < 2 * extra) have.set(r - 1, (await move.recv(r - 1, op, 0)).payload);
  const newRank = r < 2 * extra ? (r - 1) / 2 : r - extra;
  const real = (i: number) => (i < extra ? 2 * i + 1 : i + extra);
  for (let mask = 1, k = 1; mask < p; mask *= 2, k++) {
    const partner = real(newRank ^ mask);
    move.send(partner, op, k, bundle(have));
    unbundle((await move.recv(partner, op, k)).payload, n, have);
  }
  if (r < 2 * extra) move.send(r - 1, op, lg + 1, bundle(have));
  return finish();
}
