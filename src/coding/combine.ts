/**
 * The vector side of gradient coding: a worker's coded vector from its partition gradients, and
 * the full gradient from the responders' coded vectors. Accumulation is float64, outputs are
 * float32 (what goes over the wire and into the optimizer).
 */
import { GradientCodingError, type GradientCode } from './gradient-code.ts';

/**
 * Worker `worker`'s coded vector c = sum_j B[worker][j] g_j. `partitionGrads` maps a partition
 * index to its gradient; only the partitions in `code.partitionsOf(worker)` are read (an array of
 * length n with the others left undefined works, as does a Map or a function).
 */
export function encode(
  code: GradientCode,
  worker: number,
  partitionGrads: ReadonlyMap<number, Float32Array> | readonly (Float32Array | undefined)[] | ((partition: number) => Float32Array),
  out?: Float32Array,
): Float32Array {
  const parts = code.partitionsOf(worker);
  const coef = code.coefficients(worker);
  const get = (j: number): Float32Array | undefined =>
    typeof partitionGrads === 'function'
      ? partitionGrads(j)
      : partitionGrads instanceof Map
        ? partitionGrads.get(j)
        : (partitionGrads as readonly (Float32Array | undefined)[])[j];
  const grads = parts.map((j) => {
    const g = get(j);
    if (!g) throw new GradientCodingError(`gradient coding: worker ${worker} needs the gradient of partition ${j}, which was not given`);
    return g;
  });
  const d = grads[0]!.length;
  for (const [t, g] of grads.entries()) {
    if (g.length !== d) {
      throw new GradientCodingError(`gradient coding: partition ${parts[t]} has gradient length ${g.length}, expected ${d}`);
    }
  }
  return weightedSum(
    parts.map((j) => coef[j]!),
    grads,
    d,
    out,
  );
}

/**
 * The decoded full gradient sum_{k} a[k] coded[k] (= sum_j g_j when a decodes the responders
 * whose coded vectors are given, in the same order). float64 accumulation, float32 result.
 */
export function combine(a: Float64Array | readonly number[], coded: readonly Float32Array[], out?: Float32Array): Float32Array {
  if (a.length !== coded.length) {
    throw new GradientCodingError(`gradient coding: ${coded.length} coded vectors but ${a.length} decoding coefficients`);
  }
  if (coded.length === 0) throw new GradientCodingError('gradient coding: no coded vectors to combine');
  const d = coded[0]!.length;
  for (let k = 1; k < coded.length; k++) {
    if (coded[k]!.length !== d) {
      throw new GradientCodingError(`gradient coding: coded vector ${k} has length ${coded[k]!.length}, expected ${d}`);
    }
  }
  return weightedSum(Array.from(a), coded, d, out);
}

/**
 * Decode in one call: `responders[k]` sent `coded[k]` (any order, at least n-s of them).
 * Returns the full gradient sum_j g_j.
 */
export function decodeGradient(
  code: GradientCode,
  responders: readonly number[],
  coded: readonly Float32Array[],
  out?: Float32Array,
): Float32Array {
  if (responders.length !== coded.length) {
    throw new GradientCodingError(`gradient coding: ${responders.length} responders but ${coded.length} coded vectors`);
  }
  return combine(code.decoder(responders), coded, out);
}

/**
 * The first n-s responders by virtual arrival time (ties broken by worker id), ascending by
 * worker id: the set a synchronous gradient-coding master waits for. `arrival[i]` is worker i's
 * arrival time; non-finite entries (never arrives) are never chosen.
 */
export function firstResponders(code: GradientCode, arrival: readonly number[]): number[] {
  if (arrival.length !== code.n) {
    throw new GradientCodingError(`gradient coding: ${arrival.length} arrival times for ${code.n} workers`);
  }
  const order = arrival
    .map((t, i) => ({ t, i }))
    .filter((e) => Number.isFinite(e.t))
    .sort((x, y) => x.t - y.t || x.i - y.i);
  if (order.length < code.minResponders) {
    throw new GradientCodingError(
      `cannot decode: only ${order.length} of ${code.n} workers responded, the code tolerates ${code.s} stragglers`,
    );
  }
  return order
    .slice(0, code.minResponders)
    .map((e) => e.i)
    .sort((x, y) => x - y);
}

function weightedSum(w: readonly number[], vs: readonly Float32Array[], d: number, out?: Float32Array): Float32Array {
  if (out && out.length !== d) throw new GradientCodingError(`gradient coding: output has length ${out.length}, expected ${d}`);
  const acc = new Float64Array(d);
  for (let k = 0; k < vs.length; k++) {
    const c = w[k]!;
    if (c === 0) continue;
    const v = vs[k]!;
    for (let e = 0; e < d; e++) acc[e]! += c * v[e]!;
  }
  const res = out ?? new Float32Array(d);
  res.set(acc);
  return res;
}
