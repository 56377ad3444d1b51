// Robust aggregators and gossip kernels on model-sized vectors: seconds per call (median), and
// ratios against the plain mean measured in the same run (the mean is one float64 pass per input).
// Run: node --import tsx bench/robust-aggregators.ts
import { createAggregator, type AggregatorSpec } from '../comm/aggregate/index.ts';
import { ChocoGossip, gossipStep, identityCompressor, metropolisHastings, ringGraph } from '../comm/gossip/index.ts';
import { Rng } from '../src/util/rng.ts';
import { timeIt, writeResult } from './bench-io.ts';

const D = 101_770; // MLP 784-128-10
const rng = new Rng(1, 'bench-agg');
const rows: Record<string, unknown>[] = [];
for (const n of [8, 16]) {
  const inputs = Array.from({ length: n }, () => Float32Array.from({ length: D }, () => rng.normal()));
  const out = new Float32Array(D);
  const f = Math.floor((n - 3) / 2);
  const specs: AggregatorSpec[] = [
    { kind: 'mean' },
    { kind: 'coordinate-median' },
    { kind: 'trimmed-mean', beta: 0.2 },
    { kind: 'krum', f },
    { kind: 'multi-krum', f },
    { kind: 'geometric-median' },
  ];
  let meanSec = 0;
  for (const spec of specs) {
    const agg = createAggregator(spec, n);
    const sec = await timeIt(() => agg.aggregate(inputs, out), 5);
    if (spec.kind === 'mean') meanSec = sec;
    rows.push({ kernel: agg.name, n, d: D, sec, overMean: sec / meanSec });
    process.stderr.write(`n=${n} ${agg.name}: ${(sec * 1e3).toFixed(2)} ms (${(sec / meanSec).toFixed(1)}x mean)\n`);
  }
  const W = metropolisHastings(ringGraph(n));
  const stacked = new Float32Array(n * D);
  inputs.forEach((x, i) => stacked.set(x, i * D));
  const mixed = new Float32Array(n * D);
  const gSec = await timeIt(() => gossipStep(W, stacked, D, mixed), 5);
  rows.push({ kernel: 'gossip-step (ring, all n rows)', n, d: D, sec: gSec, overMean: gSec / meanSec });
  process.stderr.write(`n=${n} gossip step: ${(gSec * 1e3).toFixed(2)} ms (${(gSec / meanSec).toFixed(1)}x mean)\n`);
  const node = new ChocoGossip(0, W.rowIndex[0]!, W.rowWeight[0]!, D);
  const cSec = await timeIt(() => {
    node.prepare(inputs[0]!, identityCompressor);
    for (const j of W.rowIndex[0]!) if (j !== 0) node.receive(j, inputs[j]!);
    node.mix(inputs[0]!, 0.5, out);
  }, 5);
  rows.push({ kernel: 'choco round (one node, identity Q)', n, d: D, sec: cSec, overMean: cSec / meanSec });
  process.stderr.write(`n=${n} choco node round: ${(cSec * 1e3).toFixed(2)} ms (${(cSec / meanSec).toFixed(1)}x mean)\n`);
}
writeResult('robust-aggregators', {
  note: 'median seconds per call after one warm-up, 5 reps; overMean = sec / (mean aggregator, same n, same run)',
  results: rows,
});
