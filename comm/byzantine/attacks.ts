/**
 * Byzantine attacks as pure functions of what an attacking worker would have sent (`own`), and,
 * for the omniscient attack, of the vectors it bases its estimate on. Each writes the vector the
 * attacker sends into `out` (which may alias `own`) and allocates nothing. Randomness comes from
 * the `normal` callback (a seeded stream owned by the caller), so attacks are deterministic.
 */
import { ParameterError } from '../param-error.ts';
import { normalQuantile } from '../stats/normal.ts';

/** out = -scale * own (scale 1: the plain sign flip; Damaskinos et al., Xie et al. use larger). */
export function signFlip(own: Float32Array, out: Float32Array, scale = 1): void {
  const s = -scale;
  for (let k = 0; k < own.length; k++) out[k] = s * own[k]!;
}

/** out = factor * own. */
export function scaled(own: Float32Array, out: Float32Array, factor: number): void {
  for (let k = 0; k < own.length; k++) out[k] = factor * own[k]!;
}

/**
 * out ~ N(mean, std^2) i.i.d., replacing the message (the Gaussian Byzantine worker of
 * Blanchard et al. 2017, who use std 200).
 */
export function gaussian(out: Float32Array, std: number, normal: () => number, mean = 0): void {
  for (let k = 0; k < out.length; k++) out[k] = mean + std * normal();
}

/**
 * z of "A little is enough" (Baruch, Baruch, Goldberg, NeurIPS 2019, Algorithm 1): with n workers
 * of which f are Byzantine, s = floor(n/2 + 1) - f workers must be "won over" and
 * z_max = Phi^{-1}((n - s) / n). Needs s >= 1, i.e. the attackers are not already a majority.
 * Examples: n = 10, f = 1 -> s = 5, z = 0; n = 10, f = 3 -> s = 3, z = Phi^{-1}(0.7) = 0.5244.
 */
export function aLittleIsEnoughZ(n: number, f: number): number {
  if (!Number.isInteger(n) || n < 2) throw new ParameterError('workers', 'at least 2 workers', String(n));
  const s = Math.floor(n / 2 + 1) - f;
  if (!Number.isInteger(f) || f < 1 || s < 1) {
    throw new ParameterError(
      'workers',
      `between 1 and ${Math.floor(n / 2 + 1) - 1} attackers for a-little-is-enough with n = ${n} (s = floor(n/2 + 1) - f >= 1)`,
      String(f),
    );
  }
  return normalQuantile((n - s) / n);
}

/**
 * out_k = mean_k - z * std_k over the reference vectors (per coordinate; std with the m - 1
 * denominator, as torch.std in the paper's code; 0 when m = 1). In the paper the reference is the
 * correct workers' gradients (the attackers can estimate them from their own honest gradients);
 * the caller decides which vectors it passes. Accumulation in float64.
 */
export function aLittleIsEnough(reference: readonly Float32Array[], z: number, out: Float32Array): void {
  const m = reference.length;
  if (m === 0) throw new Error('a-little-is-enough: no reference vectors');
  for (let k = 0; k < out.length; k++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += reference[i]![k]!;
    const mean = s / m;
    let v = 0;
    for (let i = 0; i < m; i++) {
      const t = reference[i]![k]! - mean;
      v += t * t;
    }
    const std = m > 1 ? Math.sqrt(v / (m - 1)) : 0;
    out[k] = mean - z * std;
  }
}

/** label -> classes - 1 - label (the usual label-flipping attack, e.g. Fang et al. 2020). */
export function flipLabel(label: number, classes: number): number {
  if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
    throw new Error(`label-flip: label ${label} outside 0..${classes - 1}`);
  }
  return classes - 1 - label;
}

/** flipLabel over an array of class indices, in place (one-hot data: flip the index first). */
export function flipLabelsInPlace(labels: Int32Array | Uint8Array | Float32Array, classes: number): void {
  for (let i = 0; i < labels.length; i++) labels[i] = flipLabel(labels[i]!, classes);
}
