// Compressor throughput: encode + decode of each compressor on 1M and 10M float32 gradients
// (Gaussian), next to a memcpy (Float32Array.set) of the same bytes measured in the same run.
// Elements/s = d / (encode + decode time); `xMemcpy` = that time / memcpy time.
import { createCompressor, type Compressor, type CompressorSpec } from '../comm/compress/index.ts';
import { timeIt, writeResult } from './bench-io.ts';

const SIZES = (process.env['BENCH_SIZES'] ?? '1000000,10000000').split(',').map(Number);
const REPS = (d: number) => (d >= 5_000_000 ? 7 : 21);

/**
 * xoshiro128+ -> [0, 1): the benchmark's uniform stream (fast, seeded, deterministic). The state
 * lives in a Uint32Array: closure variables holding values beyond 2^30 would be boxed on every
 * update, and the generator would dominate the stochastic compressors' timings.
 */
function uniformStream(seed: number): () => number {
  const s = Uint32Array.from([seed >>> 0 || 1, 0x9e3779b9, 0x85ebca6b, 0xc2b2ae35]);
  return () => {
    const r = (s[0]! + s[3]!) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = (s[3]! << 11) | (s[3]! >>> 21);
    return (r >>> 8) / 16777216; // 24 high bits: plenty for rounding probabilities
  };
}

function gaussian(d: number, seed: number): Float32Array {
  const u = uniformStream(seed);
  const x = new Float32Array(d);
  for (let i = 0; i < d; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const a = 2 * Math.PI * u();
    x[i] = r * Math.cos(a);
    if (i + 1 < d) x[i + 1] = r * Math.sin(a);
  }
  return x;
}

const SPECS: CompressorSpec[] = [
  { kind: 'none' },
  { kind: 'fp16' },
  { kind: 'bf16' },
  { kind: 'topk', ratio: 0.01 },
  { kind: 'topk', ratio: 0.01, values: 'f16' },
  { kind: 'topk', ratio: 0.1 },
  { kind: 'randomk', ratio: 0.01 },
  { kind: 'threshold', tau: 2.5758 }, // keeps ~1% of N(0, 1)
  { kind: 'qsgd', levels: 4 },
  { kind: 'qsgd', levels: 255 },
  { kind: 'sign' },
  { kind: 'terngrad' },
  { kind: 'qsgd-topk', ratio: 0.01, levels: 4 },
  { kind: 'sign-topk', ratio: 0.01 },
];

interface Row {
  compressor: string;
  encodeSec: number;
  decodeSec: number;
  elementsPerSec: number;
  xMemcpy: number;
  bitsPerElement: number;
}

const results: Record<string, unknown>[] = [];
const t0 = performance.now();
for (const d of SIZES) {
  const x = gaussian(d, 1);
  const out = new Float32Array(d);
  const src = new Float32Array(d).fill(1);
  const memcpySec = await timeIt(() => out.set(src), 20, 3);
  const rows: Row[] = [];
  const reps = REPS(d);
  // A per-tensor top-k over 100 equal "tensors", to show the wrapper's overhead.
  const segs = Array.from({ length: 100 }, (_, i) => ({ offset: Math.floor((i * d) / 100), size: Math.floor(((i + 1) * d) / 100) - Math.floor((i * d) / 100) }));
  const compressors: Compressor[] = [...SPECS.map((s) => createCompressor(s)), createCompressor({ kind: 'topk', ratio: 0.01, perTensor: true }, segs)];
  for (const c of compressors) {
    const u = uniformStream(7);
    let payload = c.encode(x, u);
    const encodeSec = await timeIt(() => (payload = c.encode(x, u)), reps, 1);
    const decodeSec = await timeIt(() => c.decode(payload, out), reps, 1);
    const sec = encodeSec + decodeSec;
    rows.push({
      compressor: c.name,
      encodeSec,
      decodeSec,
      elementsPerSec: d / sec,
      xMemcpy: sec / memcpySec,
      bitsPerElement: (8 * payload.byteLength) / d,
    });
    process.stderr.write(`d=${d} ${c.name}: ${(sec * 1e3).toFixed(2)} ms (${(sec / memcpySec).toFixed(1)}x memcpy)\n`);
  }
  const topk = rows.find((r) => r.compressor === 'topk(0.01)')!;
  results.push({
    floats: d,
    reps,
    memcpy: { sec: memcpySec, elementsPerSec: d / memcpySec, GBps: (4 * d) / memcpySec / 1e9 },
    topkVsMemcpy: topk.xMemcpy,
    compressors: rows,
  });
}

writeResult('compressors', {
  note: 'encode + decode of one vector per compressor; elementsPerSec = d / (encodeSec + decodeSec); xMemcpy = (encodeSec + decodeSec) / memcpy time of the same 4d bytes; medians',
  totalBenchSec: (performance.now() - t0) / 1000,
  sizes: results,
});
