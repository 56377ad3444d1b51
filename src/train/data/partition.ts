import { Rng } from '../../util/rng.ts';

export type PartitionSpec =
  | { kind: 'iid' }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'shards'; shardsPerWorker: number };

/**
 * Split sample indices 0..n-1 over workers. Every process computes the same partition from the
 * seed, so a worker needs nothing but its rank to find its shard.
 * - iid: a seeded shuffle cut into equal parts.
 * - dirichlet: for each class, proportions over workers ~ Dirichlet(alpha) (small alpha = skewed).
 * - shards: sort by label, cut into workers*shardsPerWorker shards, deal them out at random.
 * Regression targets (labels null) only support iid.
 */
export function partitionIndices(n: number, labels: Int32Array | null, classes: number, workers: number, spec: PartitionSpec, seed: number): Int32Array[] {
  const rng = new Rng(seed, 'partition', spec.kind);
  if (spec.kind === 'iid' || !labels) {
    const idx = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    return Array.from({ length: workers }, (_, w) => idx.slice(Math.floor((w * n) / workers), Math.floor(((w + 1) * n) / workers)));
  }
  if (spec.kind === 'dirichlet') {
    const parts: number[][] = Array.from({ length: workers }, () => []);
    for (let c = 0; c < classes; c++) {
      const members: number[] = [];
      for (let i = 0; i < n; i++) if (labels[i] === c) members.push(i);
      rng.shuffle(members);
      const g = Array.from({ length: workers }, () => rng.gamma(spec.alpha));
      const total = g.reduce((a, b) => a + b, 0);
      let start = 0;
      let acc = 0;
      for (let w = 0; w < workers; w++) {
        acc += g[w]! / total;
        const end = w === workers - 1 ? members.length : Math.round(acc * members.length);
        for (let k = start; k < end; k++) parts[w]!.push(members[k]!);
        start = end;
      }
    }
    return parts.map((p) => rng.shuffle(Int32Array.from(p)));
  }
  // label shards
  const sorted = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[a]! - labels[b]! || a - b);
  const shardCount = workers * spec.shardsPerWorker;
  const order = rng.shuffle(Int32Array.from({ length: shardCount }, (_, i) => i));
  return Array.from({ length: workers }, (_, w) => {
    const out: number[] = [];
    for (let k = 0; k < spec.shardsPerWorker; k++) {
      const s = order[w * spec.shardsPerWorker + k]!;
      for (let i = Math.floor((s * n) / shardCount); i < Math.floor(((s + 1) * n) / shardCount); i++) out.push(sorted[i]!);
    }
    return rng.shuffle(Int32Array.from(out));
  });
}
