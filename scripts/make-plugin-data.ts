// Writes the small npy and IDX files of experiments/plugins/data/ (run once; the files are committed):
//   node --import tsx scripts/make-plugin-data.ts
// npy: the three-clusters CSV data as NumPy arrays (float32 inputs, int64 labels, as np.save writes them).
// idx: 8x8 grey images of bars (horizontal, vertical, diagonal, anti-diagonal), MNIST's gzipped IDX format.
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
function bars(n: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const rng = new Rng(seed, 'bars');
  const x = new Uint8Array(n * S * S);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng.next() * 4);
    const k = Math.floor(rng.next() * S);
    y[i] = c;
    for (let r = 0; r < S; r++) {
      for (let col = 0; col < S; col++) {
        const on = c === 0 ? r === k : c === 1 ? col === k : c === 2 ? (r - col + S) % S === k : (r + col) % S === k;
        const noise = rng.next() * 96;
        x[i * S * S + r * S + col] = Math.min(255, Math.round((on ? 160 : 0) + noise));
      }
    }
  }
  return { x, y };
}
for (const [split, n, seed] of [['train', 2000, 1], ['t10k', 500, 2]] as const) {
  const { x, y } = bars(n, seed);
  writeFileSync(join(DIR, `bars-${split}-images-idx3-ubyte.gz`), gzipSync(encodeIdx(0x08, [n, S, S], x), { level: 9 }));
  writeFileSync(join(DIR, `bars-${split}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx(0x08, [n], y), { level: 9 }));
}
