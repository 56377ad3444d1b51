/**
 * A robust aggregator turns the n vectors workers sent into one vector. Every implementation
 * keeps its scratch between calls (it is reallocated only when n or the length changes), so an
 * aggregation allocates nothing in steady state.
 */
export interface Aggregator {
  /** e.g. `mean`, `trimmed-mean(beta=0.1)`, `krum(f=2)`. */
  readonly name: string;
  /** out <- aggregate(inputs). Every input has out.length entries; inputs are not modified. */
  aggregate(inputs: readonly Float32Array[], out: Float32Array): void;
}

/** A programming error (not user input): the caller handed vectors of the wrong shape. */
export function checkShapes(name: string, inputs: readonly Float32Array[], out: Float32Array): void {
  if (inputs.length === 0) throw new Error(`${name}: no input vectors`);
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.length !== out.length) {
      throw new Error(`${name}: input ${i} has ${inputs[i]!.length} entries, the output ${out.length}`);
    }
  }
}

/**
 * Sort a[0..n) ascending in place, NaN treated as +Infinity (callers map NaN to +Infinity when
 * loading, so a Byzantine NaN lands at the top like an unbounded value). Insertion sort below 32
 * entries (the usual worker counts: no call overhead), the engine's numeric sort above.
 */
export function sortAscending(a: Float64Array, n: number): void {
  if (n > 32 && n === a.length) {
    a.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** NaN -> +Infinity: the ordering every robust aggregator here uses. */
export function orderable(v: number): number {
  return v === v ? v : Infinity;
}

/** Coordinates per block of `loadSortedBlock` (block x n doubles stay in L1/L2). */
export const SORT_BLOCK = 256;

/**
 * buf[j*n .. j*n+n) <- the n values of coordinate k0 + j, sorted ascending (NaN as +Infinity),
 * for j < kb. Loading a block transposed reads every input sequentially and lets each column be
 * sorted in contiguous memory (about 20% faster than gathering one coordinate at a time, in an
 * A/B run in one process at n = 8, d = 1e5).
 */
export function loadSortedBlock(inputs: readonly Float32Array[], k0: number, kb: number, buf: Float64Array): void {
  const n = inputs.length;
  for (let i = 0; i < n; i++) {
    const x = inputs[i]!;
    for (let j = 0; j < kb; j++) {
      const v = x[k0 + j]!;
      buf[j * n + i] = v === v ? v : Infinity;
    }
  }
  for (let j = 0; j < kb; j++) {
    const o = j * n;
    const end = o + n;
    for (let a = o + 1; a < end; a++) {
      const v = buf[a]!;
      let b = a - 1;
      while (b >= o && buf[b]! > v) {
        buf[b + 1] = buf[b]!;
        b--;
      }
      buf[b + 1] = v;
    }
  }
}
