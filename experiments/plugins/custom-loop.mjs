// The programmatic API from plain JavaScript: `node experiments/plugins/custom-loop.mjs`.
// A custom loop over results: final accuracy and bits as the learning rate grows.
import { loadConfig, runExperiment } from 'dtemu';

const steps = process.argv[2] ?? '200';
for (const lr of [0.01, 0.03, 0.1]) {
  const lc = loadConfig('experiments/quickstart.yaml', { sets: [`optimizer.lr=${lr}`, `train.steps=${steps}`, 'transport.kind=inproc'] });
  const { dir, summary } = await runExperiment(lc, { outDir: `runs/lr-${lr}-${Date.now()}` });
  console.log(`lr ${lr}: accuracy ${(100 * summary.finalAccuracy).toFixed(2)}%, ${(summary.totalBits / 8e6).toFixed(1)} MB sent (${dir})`);
}
