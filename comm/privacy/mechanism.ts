/**
 * The per-message Gaussian mechanism: clip the message to L2 norm `clip`, then add i.i.d.
 * N(0, sigma^2) noise drawn from a caller-owned seeded normal stream (e.g. `new Rng(seed, 'dp',
 * worker, step)` from src/util/rng.ts), so a private run is as reproducible as any other.
 * In place, no allocation.
 */

/** x <- x * min(1, clip / ||x||_2). Returns ||x||_2 before clipping (float64). */
export function clipL2(x: Float32Array, clip: number): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k]! * x[k]!;
  const norm = Math.sqrt(s);
  if (norm > clip) {
    const f = clip / norm;
    for (let k = 0; k < x.length; k++) x[k] = x[k]! * f;
  }
  return norm;
}

/** x_k += sigma * normal(); sigma = 0 leaves x untouched (and draws nothing). */
export function addGaussianNoise(x: Float32Array, sigma: number, normal: () => number): void {
  if (sigma === 0) return;
  for (let k = 0; k < x.length; k++) x[k] = x[k]! + sigma * normal();
}

/** clipL2 then addGaussianNoise: what a node broadcasts. Returns the pre-clip norm. */
export function privatize(x: Float32Array, clip: number, sigma: number, normal: () => number): number {
  const norm = clipL2(x, clip);
  addGaussianNoise(x, sigma, normal);
  return norm;
}
