/**
 * Short versions of every shipped experiment (and of the grid points that exercise other code:
 * each compressor, each straggler strategy, Streaming DiLoCo) whose metrics were recorded on main
 * before the algorithm layer was refactored (test/fixtures/reference-metrics.json). The
 * reference test reruns them and demands identical metrics; `npx tsx
 * scripts/record-reference-metrics.ts` rewrites the fixture when a change is meant to alter them.
 */
export interface ReferenceCase {
  name: string;
  file: string;
  sets: string[];
}

const fmnist = ['train.evalSamples=500'];
const inproc = 'transport.kind=inproc';

function c(name: string, file: string, ...sets: string[]): ReferenceCase {
  return { name, file: `experiments/${file}`, sets: [inproc, ...sets] };
}

const compressors = [
  '{kind: fp16}',
  '{kind: topk, ratio: 0.01}',
  '{kind: randomk, ratio: 0.01}',
  '{kind: qsgd, levels: 4, bucket: 512}',
  '{kind: sign}',
  '{kind: terngrad}',
  '{kind: qsgd-topk, ratio: 0.01, levels: 4}',
  '{kind: sign-topk, ratio: 0.01}',
];

export const REFERENCE_CASES: ReferenceCase[] = [
  c('quickstart', 'quickstart.yaml', 'train.steps=10', 'train.evalEvery=5', ...fmnist),
  c('stragglers-star', 'stragglers-star.yaml', 'train.steps=8', 'train.evalEvery=4', ...fmnist),
  c('compressors', 'compression/compressors.yaml', 'train.steps=6', 'train.evalEvery=3', ...fmnist),
  ...compressors.map((k, i) => c(`compressors-${i}`, 'compression/compressors.yaml', `optimizer.compressor=${k}`, 'train.steps=5', 'train.evalEvery=5', ...fmnist)),
  c('qsparse-async', 'compression/qsparse-async.yaml', 'train.steps=16', 'train.evalEvery=8', ...fmnist),
  c('qsparse', 'compression/qsparse.yaml', 'train.steps=10', 'train.evalEvery=5', ...fmnist),
  c('qsparse-sign-topk-h1', 'compression/qsparse.yaml', 'optimizer.localSteps=1', 'optimizer.compressor={kind: sign-topk, ratio: 0.01}', 'train.steps=5', 'train.evalEvery=5', ...fmnist),
  c('char-lm', 'diloco/char-lm.yaml', 'train.steps=3', 'train.evalEvery=3', 'optimizer.localSteps=2', 'data.samples=2000', 'data.testSamples=50'),
  c('diloco', 'diloco/h-sweep.yaml', 'train.steps=10', 'train.evalEvery=5', 'optimizer.localSteps=4', ...fmnist),
  c('diloco-streaming', 'diloco/streaming.yaml', 'train.steps=12', 'train.evalEvery=6', 'optimizer.localSteps=4', 'optimizer.fragments=4', 'optimizer.overlap=2', 'optimizer.compressor={kind: fp16}', ...fmnist),
  c('crash-coded', 'faults/crash-coded.yaml', 'train.steps=12', 'train.evalEvery=6', 'faults.0.at=5'),
  c('crash-rejoin', 'faults/crash-rejoin.yaml', 'train.steps=14', 'train.evalEvery=7', 'optimizer.localSteps=2', 'faults.0.at=4', 'faults.0.rejoin=4', ...fmnist),
  c('degraded-link', 'faults/degraded-link.yaml', 'train.steps=10', 'train.evalEvery=5', 'faults.0.at=1 ms', 'faults.0.for=2 ms', ...fmnist),
  c('generated-faults', 'faults/generated.yaml', 'train.steps=30', 'train.evalEvery=10'),
  c('persistent-slow-node', 'faults/persistent-slow-node.yaml', 'train.steps=12', 'train.evalEvery=6', ...fmnist),
  c('programmable-faults', 'faults/programmable.yaml', 'train.steps=10', 'train.evalEvery=5', ...fmnist),
  c('rolling-stragglers', 'faults/rolling-stragglers.yaml', 'train.steps=8', 'train.evalEvery=4', 'faults.1.at=3', 'faults.1.for=3', ...fmnist),
  c('stall', 'faults/stall.yaml', 'train.steps=8', 'train.evalEvery=4', 'faults.0.at=3', 'faults.1.at=1 ms', ...fmnist),
  ...['coded', 'wait-for-all', 'ignore-stragglers', 'replication'].map((s) => c(`gradient-coding-${s}`, 'gradient-coding/coded-vs-baselines.yaml', `optimizer.strategy=${s}`, 'train.steps=10', 'train.evalEvery=5')),
  c('gc-pareto-non-iid', 'gradient-coding/pareto-non-iid.yaml', 'train.steps=10', 'train.evalEvery=5'),
  c('gc-severity', 'gradient-coding/severity.yaml', 'train.steps=10', 'train.evalEvery=5'),
  c('powersgd-cnn', 'powersgd/cnn.yaml', 'train.steps=2', 'train.evalEvery=2', 'train.evalSamples=100'),
  c('powersgd-mlp', 'powersgd/mlp.yaml', 'train.steps=8', 'train.evalEvery=4', ...fmnist),
  c('powersgd-mlp-r1-noef', 'powersgd/mlp.yaml', 'optimizer.rank=1', 'optimizer.errorFeedback=none', 'train.steps=5', 'train.evalEvery=5', ...fmnist),
];

/**
 * Two of them over ws (worker processes), compared with the same in-process fixture (crash and
 * rejoin over ws are compared with in process by test/crash.test.ts).
 */
export const WS_CASES: ReferenceCase[] = [
  { name: 'quickstart', file: 'experiments/quickstart.yaml', sets: ['transport.processes=2', 'train.steps=10', 'train.evalEvery=5', ...fmnist] },
  { name: 'qsparse-async', file: 'experiments/compression/qsparse-async.yaml', sets: ['transport.processes=1', 'train.steps=16', 'train.evalEvery=8', ...fmnist] },
];

/** Summary fields that depend on the wall clock or the machine. */
export const NON_DETERMINISTIC_SUMMARY = ['wallTimeSec', 'trainWallSec', 'backend'];
