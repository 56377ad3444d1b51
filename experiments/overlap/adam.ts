// The baseline of 1-bit Adam, as a plugin: data-parallel Adam with a dense fp32 all-reduce of the
// gradients every step (PyTorch DDP + torch.optim.Adam). Written independently of 1-bit Adam's
// core (it is dtemu's AdamW with weight decay 0), so the test that 1-bit Adam's warm-up equals
// Adam compares two implementations.
//
//   for t = 1..T:  ḡ = all-reduce(g_i) / n;  Adam(x, ḡ)
import { AdamW, computeGradient, defineAlgorithm, finishStep, type WorkerContext } from 'dtemu';

interface AdamConfig {
  kind: string;
  lr: number;
  betas: [number, number];
  eps: number;
  [key: string]: unknown;
}

async function worker(ctx: WorkerContext, cfg: AdamConfig): Promise<void> {
  const { ep } = ctx;
  const x = Float32Array.from(ctx.initialParams);
  const grad = new Float32Array(x.length);
  const avg = new Float32Array(x.length);
  const adam = new AdamW(x.length, cfg.betas[0], cfg.betas[1], cfg.eps, 0);
  const inv = 1 / ctx.workers;
  for (let step = 1; step <= ctx.steps; step++) {
    if (ctx.crashesAt(step)) return ctx.crash(step);
    const local = computeGradient(ctx, step, x, grad);
    const commStart = ep.now;
    await ctx.allReduce(grad);
    for (let i = 0; i < x.length; i++) avg[i] = grad[i]! * inv;
    adam.step(x, avg, cfg.lr);
    await finishStep(ctx, step, local, ep.now - commStart, x);
  }
}

export default defineAlgorithm<AdamConfig>({
  kind: 'adam',
  description: 'data-parallel Adam over a dense fp32 all-reduce (a plugin; the baseline of onebit-adam).',
  options: {
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'Learning rate (torch default 1e-3).' },
    betas: { type: 'array', items: { type: 'number', minimum: 0, exclusiveMaximum: 1 }, minItems: 2, maxItems: 2, default: [0.9, 0.999], description: '(beta1, beta2).' },
    eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: 'Epsilon.' },
  },
  rules(_cfg, ctx) {
    if (ctx.topology === 'star') ctx.fail('topology.kind', 'expected a topology without a parameter server for this plugin (it has no master), found star');
  },
  toleratesCrash: () => false,
  worker,
});
