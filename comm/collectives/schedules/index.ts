import type { CollectiveKind } from '../choices.ts';
import { hierarchicalRounds, twoDimRingRounds } from './composite.ts';
import { halvingDoublingRounds, recursiveDoublingRounds } from './power-of-two.ts';
import { ringSchedule } from './ring.ts';
import type { Cut, Schedule } from './schedule.ts';
import { floorCut } from './schedule.ts';
import { doubleTreeRounds, treeRounds } from './tree.ts';

/** What a collective needs to know of the network's shape (from the topology). */
export interface NetworkShape {
  groups?: readonly (readonly number[])[];
  dims?: readonly number[];
}

/** The all-reduce schedule of `kind` for n ranks and a vector of `length` elements. */
export function allReduceSchedule(kind: CollectiveKind, n: number, length: number, shape: NetworkShape = {}, cut: Cut = floorCut): Schedule {
  // The ring carries its compact form; its transfers are built only if something reads them.
  if (kind === 'ring') return ringSchedule(n, length, cut);
  const rounds = (() => {
    switch (kind) {
      case 'tree':
        return treeRounds(n, 0, length);
      case 'double-tree':
        return doubleTreeRounds(n, 0, length, cut);
      case 'recursive-doubling':
        return recursiveDoublingRounds(n, 0, length);
      case 'halving-doubling':
        return halvingDoublingRounds(n, 0, length, cut);
      case 'hierarchical':
        if (!shape.groups) throw new Error('hierarchical all-reduce needs groups');
        return hierarchicalRounds(shape.groups, 0, length, cut);
      case '2d-ring':
        if (!shape.dims || shape.dims.length !== 2 || shape.dims[0]! * shape.dims[1]! !== n) throw new Error('2d-ring all-reduce needs a 2-D torus of n ranks');
        return twoDimRingRounds(shape.dims, 0, length, cut);
    }
  })();
  return { algorithm: kind, n, length, rounds };
}

/** The collectives that can run on a network of this shape. */
export function applicableCollectives(shape: NetworkShape, n: number): CollectiveKind[] {
  const out: CollectiveKind[] = ['ring', 'tree', 'double-tree', 'recursive-doubling', 'halving-doubling'];
  if (shape.groups && shape.groups.length > 1) out.push('hierarchical');
  if (shape.dims?.length === 2 && shape.dims[0]! * shape.dims[1]! === n) out.push('2d-ring');
  return out;
}
export type { Schedule, Round, Transfer, Cut, CompactRing, CompactSchedule } from './schedule.ts';
export { exactCut, floorCut } from './schedule.ts';
