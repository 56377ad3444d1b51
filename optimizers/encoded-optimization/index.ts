import { ParameterError } from '../../comm/param-error.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { emptyBlocks, encodedRows, type EncodedOptimizationConfig } from './config.ts';
import { ENCODE_MAX_MULTIPLY_ADDS, encodingCost, formatBytes } from './encoding-cost.ts';
import type { RuleContext } from '../algorithm.ts';
import { runEncodedMaster, runModelParallelMaster } from './master.ts';
import { runEncodedWorker } from './worker.ts';

/**
 * encoded-optimization (Karakus, Sun, Diggavi, Yin 2017 / JMLR 2019): least squares (linear or
 * ridge regression) on data encoded as S X, S y with redundancy beta, rows split over the
 * workers; the master runs gradient descent or L-BFGS on the first k blocks to arrive each step,
 * oblivious to S. Logistic regression: the parameters are encoded (model-parallel.ts). Defaults: the subsampled Hadamard encoding at beta = 2 and gradient descent
 * (the papers' main data-parallel setting); k has no default (it is the experiment's question).
 */
export const encodedOptimization = defineAlgorithm<EncodedOptimizationConfig & OptimizerConfig>({
  kind: 'encoded-optimization',
  description: 'least squares on encoded data, or logistic regression on encoded parameters (gaussian, hadamard, ETF; uncoded and replication to compare): the master steps on the first k of n workers, oblivious to the encoding (Karakus et al. 2017).',
  options: {
    k: { type: 'integer', minimum: 1, description: 'Workers the master waits for each step (the first k by virtual arrival), 1 <= k <= workers.' },
    encoding: {
      enum: ['hadamard', 'gaussian', 'etf', 'none', 'replication'],
      default: 'hadamard',
      description: 'S: hadamard (subsampled randomized Hadamard, beta N a power of two), gaussian, etf (equiangular tight frame, beta fixed by its construction), none (uncoded: wait for k, ignore the rest), replication (beta copies of each of n/beta partitions; the master drops second copies).',
    },
    beta: { type: 'number', minimum: 1, default: 2, description: 'Redundancy M/N (hadamard, gaussian), or copies of each partition (replication: an integer dividing workers).' },
    construction: { enum: ['paley', 'harmonic'], default: 'paley', description: 'etf: Paley (N with 2N-1 a prime = 1 mod 4; beta 2) or harmonic (N with 2N+1 or 2N-1 a prime = 3 mod 4; beta about 2).' },
    method: { enum: ['gd', 'lbfgs'], default: 'gd', description: 'The master\'s optimizer: gradient descent, or L-BFGS with curvature pairs from the blocks seen at both points (least squares only: a logistic model runs block gradient steps).' },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'Step size (lbfgs: 1 is the quasi-Newton step).' },
    memory: { type: 'integer', minimum: 1, default: 10, description: 'lbfgs: curvature pairs kept.' },
    ridge: { type: 'number', minimum: 0, default: 0, description: 'lambda of the ridge term (lambda/2) ||w||^2 (bias included).' },
  },
  required: ['k'],
  inapplicable: (o): Record<string, string> => ({
    ...(o.encoding === 'none' || o.encoding === 'etf' ? { beta: `with encoding ${o.encoding} (${o.encoding === 'etf' ? 'the frame fixes its redundancy' : 'no redundancy'})` } : {}),
    ...(o.encoding !== 'etf' ? { construction: 'only with encoding etf' } : {}),
    ...(o.method !== 'lbfgs' ? { memory: 'only with method lbfgs' } : {}),
  }),
  rules(o, ctx) {
    if (ctx.topology !== 'star') ctx.fail('topology.kind', `expected star for encoded-optimization (the master is the parameter server), found ${ctx.topology}`);
    if (o.k > ctx.workers) ctx.fail('optimizer.k', `expected k <= workers (${ctx.workers}), found ${o.k}`);
    const d = ctx.data ?? {};
    // Least squares (data encoded) or a linear classifier (parameters encoded, model parallel).
    const modelParallel = ctx.model === 'logistic';
    if (ctx.model !== 'linear' && !modelParallel) {
      ctx.fail('model.kind', `expected linear (least squares) or logistic (a linear classifier, model-parallel encoding) for encoded-optimization, found ${ctx.model ?? 'a model module'}`);
    }
    const synthetic = ['linear', 'logistic', 'blobs'].includes(d.dataset ?? '') || d.format === 'csv';
    if (!synthetic) {
      // npy, idx and data modules are not accepted yet: their rows reach the workers unchecked for the encoding's size rules.
      const found = d.dataset !== undefined ? `dataset ${d.dataset}` : d.format !== undefined ? `format ${d.format}` : 'a data module';
      ctx.fail(d.dataset !== undefined ? 'data.dataset' : d.format !== undefined ? 'data.format' : 'data.module', `expected synthetic (linear, logistic, blobs) or csv data for encoded-optimization (it holds every row, encoded; see optimizers/encoded-optimization/README.md), found ${found}`);
    }
    if (modelParallel && o.method === 'lbfgs') ctx.fail('optimizer.method', 'expected gd with a logistic model (its model-parallel encoding runs block gradient steps), found lbfgs');
    if (modelParallel && o.encoding === 'replication') ctx.fail('optimizer.encoding', 'expected hadamard, gaussian, etf or none with a logistic model (replication applies to least squares), found replication');
    // Synthetic data: its size is known now, so an encoding that cannot have it is refused here
    // (csv data: when the workers load it). Least squares encodes the N rows, the classifier
    // its features + 1 parameters per class.
    const size = modelParallel ? (d.features === undefined ? undefined : d.features + 1) : d.samples;
    if (size !== undefined && d.dataset !== undefined) {
      const sizeKey = modelParallel ? 'data.features' : 'data.samples';
      try {
        const m = encodedRows(o, size, ctx.workers);
        const short = emptyBlocks(o, size, m, ctx.workers);
        if (short) ctx.fail(sizeKey, `expected at least one ${modelParallel ? 'encoded parameter row' : short.what} per block (${short.blocks} blocks), found ${short.found}`);
        checkEncodingCost(o, ctx, { size, rows: m, modelParallel, sizeKey, features: d.features ?? 0, samples: d.samples ?? 0 });
      } catch (e) {
        if (!(e instanceof ParameterError)) throw e;
        const path = e.key === 'samples' ? (modelParallel ? 'data.features' : 'data.samples') : `optimizer.${e.key}`;
        const found = e.key === 'samples' && modelParallel ? `${Number(e.found) - 1} features (N = ${e.found} parameters per class with the bias)` : e.found;
        ctx.fail(path, `expected ${e.expected} (encoding ${o.encoding}), found ${found}`);
      }
    }
  },
  // The master carries on with the live workers (it takes at most k of them).
  toleratesCrash: () => true,
  worker: runEncodedWorker,
  master: (m, o) => {
    // A classifier's kernel is [inputs, classes >= 2]: the model-parallel encoding of its parameters.
    const kernel = m.params[0]!.shape;
    const classes = kernel[1] ?? 1;
    if (classes >= 2) return runModelParallelMaster(m.server, o, kernel[0]! + 1, classes, m.steps, m.seed, m.membership);
    return runEncodedMaster(m.server, o, m.initialParams, m.steps, m.membership);
  },
});

/**
 * Refuse an encoding whose arrays would not fit the run's memory budget (next to the rest of the
 * config's estimate, once per process) or whose one-off encoding would exceed
 * ENCODE_MAX_MULTIPLY_ADDS. Blamed on beta when the same data at redundancy 1 would fit (beta is
 * what made it big), else on the data's size key.
 */
function checkEncodingCost(
  o: EncodedOptimizationConfig,
  ctx: RuleContext,
  x: { size: number; rows: number; modelParallel: boolean; sizeKey: string; features: number; samples: number },
): void {
  const cost = (rows: number) => encodingCost(o, { size: x.size, rows, width: x.features + 1, samples: x.samples, modelParallel: x.modelParallel });
  const mem = ctx.memory;
  const room = mem ? Math.max(0, mem.budgetBytes - mem.estimatedBytes) / mem.processes : Infinity;
  const c = cost(x.rows);
  const tooBig = (k: ReturnType<typeof cost>) => k.bytes > room || k.multiplyAdds > ENCODE_MAX_MULTIPLY_ADDS;
  if (!tooBig(c)) return;
  const betaKeyed = o.encoding === 'gaussian' || o.encoding === 'hadamard' || o.encoding === 'replication';
  const path = betaKeyed && !tooBig(cost(x.size)) ? 'optimizer.beta' : x.sizeKey;
  const found = path === 'optimizer.beta' ? `beta ${o.beta}` : x.modelParallel ? `${x.features} features` : `${x.samples} samples`;
  const what = c.bytes > room
    ? `${formatBytes(c.bytes)} for the encoding (M = ${x.rows} encoded rows), expected at most ${formatBytes(room)} (limits.memoryFraction of this machine's memory, less the rest of the run${mem && mem.processes > 1 ? `, per process of ${mem.processes}` : ''})`
    : `${c.multiplyAdds.toExponential(2)} multiply-adds to encode (M = ${x.rows} encoded rows), expected at most ${ENCODE_MAX_MULTIPLY_ADDS.toExponential(0)}`;
  ctx.fail(path, `encoding ${o.encoding} would need ${what}; found ${found}`);
}
