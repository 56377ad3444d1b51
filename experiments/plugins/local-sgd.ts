// An algorithm plugin: local SGD with periodic model averaging (Stich 2019; FedAvg with full
// participation), in one file. Adding it touched nothing of dtemu: this module and the YAML.
//
//   x_i = x
//   for t = 1..T:
//     x_i = x_i - lr ∇f(x_i; batch_i)
//     if t % H == 0 or t == T:  x_i = (1/n) Σ_j x_j      (all-reduce of the models)
import { computeGradient, defineAlgorithm, finishStep, type WorkerContext } from 'dtemu';

interface LocalSgdConfig {
  kind: string;
  lr: number;
  localSteps: number;
  [key: string]: unknown;
}

async function worker(ctx: WorkerContext, cfg: LocalSgdConfig): Promise<void> {
  const { ep } = ctx;
  const x = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(x.length);
  const inv = 1 / ctx.workers;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const local = computeGradient(ctx, step, x, grad);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! - cfg.lr * grad[i]!;
    const commStart = ep.now;
    if (step % cfg.localSteps === 0 || step === ctx.steps) {
      await ctx.allReduce(x);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * inv;
    }
    await finishStep(ctx, step, local, ep.now - commStart, x);
  }
}

export default defineAlgorithm<LocalSgdConfig>({
  kind: 'local-sgd',
  description: 'local SGD with periodic model averaging (a plugin).',
  options: {
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'Learning rate.' },
    localSteps: { type: 'integer', minimum: 1, default: 8, description: 'H: local steps between averagings.' },
  },
  rules(cfg, ctx) {
    if (ctx.topology !== 'ring') ctx.fail('topology.kind', `expected ring for local-sgd (ring all-reduce of the models), found ${ctx.topology}`);
  },
  toleratesCrash: () => false,
  worker,
});
