// A data module: `data: { module: ./spirals-data.ts, ...options }`. Its default export returns
// arrays; dtemu checks them like its own file formats (shapes, finite inputs, labels
// 0..classes-1), then partitions, batches and evaluates them like a built-in data set.
// `load` runs once in each process (coordinator and worker processes) and must return the same
// arrays for the same options and seed: draw randomness from `seed`, never from Math.random.
//
// Here: k interleaved spiral arms in the plane, lifted to features (x, y, x², y², xy, sin, cos).
//
// Only types come from 'dtemu' (`import type` is erased: loading the module costs nothing more);
// `defineDataset({ ... })` from 'dtemu' does the same for JavaScript.
import type { DatasetPlugin } from 'dtemu';

/** A small seeded generator (mulberry32), so the data follow the run's seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FEATURES = 7;

function spirals(n: number, arms: number, noise: number, rand: () => number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * FEATURES);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % arms;
    const r = rand();
    const angle = 3 * r + (2 * Math.PI * c) / arms + noise * (rand() - 0.5);
    const px = r * Math.cos(angle);
    const py = r * Math.sin(angle);
    x.set([px, py, px * px, py * py, px * py, Math.sin(3 * angle) * r, Math.cos(3 * angle) * r], i * FEATURES);
    y[i] = c;
  }
  return { x, y };
}

const dataset: DatasetPlugin<{ samples: number; testSamples: number; arms: number; noise: number }> = {
  options: {
    samples: { type: 'integer', minimum: 1, default: 3000, description: 'Training points.' },
    testSamples: { type: 'integer', minimum: 1, default: 600, description: 'Test points.' },
    arms: { type: 'integer', minimum: 2, default: 3, description: 'Spiral arms (classes).' },
    noise: { type: 'number', minimum: 0, default: 0.3, description: 'Angular noise (radians).' },
  },
  load: ({ options, seed }) => {
    const train = spirals(options.samples, options.arms, options.noise, mulberry32(seed));
    // The test set does not depend on the seed: every run is measured on the same points.
    const test = spirals(options.testSamples, options.arms, options.noise, mulberry32(0x5eed));
    return { inputShape: [FEATURES], classes: options.arms, train, test };
  },
};

export default dataset;
