import { ParameterError } from '../../comm/param-error.ts';
import { defineAlgorithm, type OptimizerConfig } from '../algorithm.ts';
import { encodedRows, type EncodedOptimizationConfig } from './config.ts';
import { runEncodedMaster } from './master.ts';
import { runEncodedWorker } from './worker.ts';

/**
 * encoded-optimization (Karakus, Sun, Diggavi, Yin 2017 / JMLR 2019): least squares (linear or
 * ridge regression) on data encoded as S X, S y with redundancy beta, rows split over the
 * workers; the master runs gradient descent or L-BFGS on the first k blocks to arrive each step,
 * oblivious to S. Defaults: the subsampled Hadamard encoding at beta = 2 and gradient descent
 * (the papers' main data-parallel setting); k has no default (it is the experiment's question).
 */
export const encodedOptimization = defineAlgorithm<EncodedOptimizationConfig & OptimizerConfig>({
  kind: 'encoded-optimization',
  description: 'least squares on encoded data (gaussian, hadamard, ETF; uncoded and replication to compare): the master steps on the first k of n workers, oblivious to the encoding (Karakus et al. 2017).',
  options: {
    k: { type: 'integer', minimum: 1, description: 'Workers the master waits for each step (the first k by virtual arrival), 1 <= k <= workers.' },
    encoding: {
      enum: ['hadamard', 'gaussian', 'etf', 'none', 'replication'],
      default: 'hadamard',
      description: 'S: hadamard (subsampled randomized Hadamard, beta N a power of two), gaussian, etf (equiangular tight frame, beta fixed by its construction), none (uncoded: wait for k, ignore the rest), replication (beta copies of each of n/beta partitions; the master drops second copies).',
    },
    beta: { type: 'number', minimum: 1, default: 2, description: 'Redundancy M/N (hadamard, gaussian), or copies of each partition (replication: an integer dividing workers).' },
    construction: { enum: ['paley', 'harmonic'], default: 'paley', description: 'etf: Paley (N with 2N-1 a prime = 1 mod 4; beta 2) or harmonic (N with 2N+1 or 2N-1 a prime = 3 mod 4; beta about 2).' },
    method: { enum: ['gd', 'lbfgs'], default: 'gd', description: 'The master\'s optimizer: gradient descent, or L-BFGS with curvature pairs from the blocks seen at both points.' },
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
    const regression = d.dataset === 'linear' || (d.format === 'csv' && d.task === 'regression');
    if (!regression) {
      const found = d.dataset ?? `format ${d.format} with task ${d.task ?? 'classification'}`;
      ctx.fail(d.dataset !== undefined ? 'data.dataset' : 'data.task', `expected regression data (dataset linear, or format csv with task regression) for encoded-optimization (least squares; see optimizers/encoded-optimization/README.md), found ${found}`);
    }
    if (ctx.model !== 'linear') ctx.fail('model.kind', `expected linear for encoded-optimization (least squares on [X 1]), found ${ctx.model ?? 'a model module'}`);
    // Synthetic data: its size is known now, so an encoding that cannot have it is refused here
    // (csv data: when the workers load it).
    if (d.samples !== undefined && d.dataset !== undefined) {
      try {
        const m = encodedRows(o, d.samples, ctx.workers);
        const blocks = o.encoding === 'replication' ? ctx.workers / (o.beta ?? 1) : ctx.workers;
        if (m < blocks) ctx.fail('data.samples', `expected at least one encoded row per block (${blocks} blocks), found ${m} rows`);
      } catch (e) {
        if (!(e instanceof ParameterError)) throw e;
        const path = e.key === 'samples' ? 'data.samples' : `optimizer.${e.key}`;
        ctx.fail(path, `expected ${e.expected} (encoding ${o.encoding}), found ${e.found}`);
      }
    }
  },
  // The master carries on with the live workers (it takes at most k of them).
  toleratesCrash: () => true,
  worker: runEncodedWorker,
  master: (m, o) => runEncodedMaster(m.server, o, m.initialParams, m.steps, m.membership),
});
