/** mulberry32: tiny seeded PRNG, uniform in [0, 1) (independent of the code under test). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n normal samples by Box-Muller, two uniforms each (the log's first), times `scale`. */
export function normals(n: number, rand: () => number, scale = 1, out = new Float32Array(n)): Float32Array {
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

/** The smallest float32 >= v (for positive v): what a norm sent as f32 "rounded up" is. */
export function roundUpF32(v: number): number {
  const f = new Float32Array([v]);
  if (f[0]! < v) new Uint32Array(f.buffer)[0]! += 1;
  return f[0]!;
}
