// Writes the small npy and IDX files of experiments/plugins/data/ (run once; the files are committed):
//   node --import tsx scripts/make-plugin-data.ts
// npy: the three-clusters CSV data as NumPy arrays (float32 inputs, int64 labels, as np.save writes them).
// idx: 8x8 grey images with a bright square in one of four quadrants (the class), MNIST's gzipped IDX format.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../src/train/data/idx.ts';
import { encodeNpy } from '../src/train/data/npy.ts';
import { Rng } from '../src/util/rng.ts';

const DIR = join(import.meta.dirname, '..', 'experiments', 'plugins', 'data');

for (const split of ['train', 'test']) {
  const rows = readFileSync(join(DIR, `three-clusters-${split}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const x = Float32Array.from(rows.flatMap((r) => r.slice(0, -1)));
  const y = BigInt64Array.from(rows.map((r) => BigInt(r[r.length - 1]!)));
  writeFileSync(join(DIR, `three-clusters-${split}-x.npy`), encodeNpy('<f4', [rows.length, 8], x));
  writeFileSync(join(DIR, `three-clusters-${split}-y.npy`), encodeNpy('<i8', [rows.length], y));
}

const S = 8;
/** 8x8 grey images with a bright 3x3 square somewhere in one of the four quadrants (the class), on noise. */
function quadrants(n: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const rng = new Rng(seed, 'quadrants');
  const x = new Uint8Array(n * S * S);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng.next() * 4);
    y[i] = c;
    // The square's top-left corner: anywhere that keeps its centre in quadrant c.
    const r0 = (c >> 1) * 4 + Math.floor(rng.next() * 3) - 1;
    const c0 = (c & 1) * 4 + Math.floor(rng.next() * 3) - 1;
    for (let r = 0; r < S; r++) {
      for (let col = 0; col < S; col++) {
        const on = r >= r0 && r < r0 + 3 && col >= c0 && col < c0 + 3;
        x[i * S * S + r * S + col] = Math.min(255, Math.round((on ? 150 : 0) + rng.next() * 105));
      }
    }
  }
  return { x, y };
}
for (const [split, n, seed] of [['train', 2000, 1], ['t10k', 500, 2]] as const) {
  const { x, y } = quadrants(n, seed);
  writeFileSync(join(DIR, `quadrants-${split}-images-idx3-ubyte.gz`), gzipSync(encodeIdx(0x08, [n, S, S], x), { level: 9 }));
  writeFileSync(join(DIR, `quadrants-${split}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx(0x08, [n], y), { level: 9 }));
}
