import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
const opts = process.argv.slice(2);
const steps = Number(process.env.STEPS ?? 400);
for (const opt of opts) {
  const text = `data: { dataset: fashion-mnist, batchSize: 32 }\nmodel: { kind: mlp, hidden: [128] }\nworkers: 4\noptimizer: ${opt}\ntopology: { kind: ring }\ntransport: { kind: inproc }\ntrain: { steps: ${steps}, evalEvery: 50, target: { accuracy: 0.8 } }\n`;
  const dir = join(mkdtempSync(join(tmpdir(), 'fo-')), 'run');
  const { summary } = await runExperiment(loadConfigText('s.yaml', text), { outDir: dir, quiet: true } as never);
  const evals = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'eval');
  console.log(opt, evals.map((e) => `${e.step}:${(e.evalAccuracy * 100).toFixed(1)}`).join(' '), 'tt', JSON.stringify(summary.timeToTarget?.step ?? null));
}
