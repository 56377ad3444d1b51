import type { Endpoint } from '../../comm/endpoint.ts';
import type { GradientOracle, WorkerContext } from '../../optimizers/worker-context.ts';

/**
 * A worker context that drives an algorithm's worker loop with scripted gradients instead of a
 * model, to check its arithmetic and wire by hand: the t-th gradient the worker asks for is
 * `-push(t)` (so an SGD step with lr 1 adds push(t)), every step costs 1 ms of compute, every
 * step is evaluated, and each evaluated vector is appended to `evaluated`. `extra` adds or
 * replaces context members (report callbacks, neighbours, allReduce, ...).
 */
export function scriptedContext(o: {
  rank: number;
  workers: number;
  ep: Endpoint;
  steps: number;
  initialParams: Float32Array;
  push: (t: number) => ArrayLike<number>;
  evaluated: Float32Array[];
  extra?: Record<string, unknown>;
}): WorkerContext {
  const d = o.initialParams.length;
  let t = 0;
  const oracle: GradientOracle = {
    paramCount: d,
    lossAndGrad: (_p, _b, g) => {
      const v = o.push(++t);
      for (let k = 0; k < d; k++) g[k] = -v[k]!;
      return 0;
    },
    evaluate: async (p) => {
      o.evaluated.push(Float32Array.from(p));
      return { loss: 0, accuracy: 0 };
    },
    lastTiming: () => ({ wallSec: 0, cpuSec: 0 }),
  };
  return {
    rank: o.rank,
    workers: o.workers,
    ep: o.ep,
    oracle,
    initialParams: o.initialParams,
    nextBatch: () => new Int32Array(0),
    computeTime: () => ({ compute: 1e-3, delay: 0 }),
    report: () => {},
    reportStep: () => {},
    steps: o.steps,
    evalEvery: 1,
    seed: 1,
    topology: 'ring',
    crashesAt: () => false,
    ...o.extra,
  } as unknown as WorkerContext;
}
