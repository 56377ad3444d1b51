import { Rng } from '../util/rng.ts';

/**
 * Straggler delay distributions: the extra virtual seconds injected into a worker's compute at a
 * step. Each is a pure function of (spec, seed, worker, step): the draw for (worker, step) comes
 * from its own stream `new Rng(seed, 'straggler', kind, worker, step)`, so it never depends on
 * which process runs the worker, on the order of calls, or on what else was drawn.
 *
 * `workers` (optional on the random kinds) restricts the delay to those workers; the others get 0.
 */
export type StragglerSpec =
  | { kind: 'none' }
  /** shift + Exponential(mean): the classic straggler model of the gradient-coding papers. Mean shift + mean. */
  | { kind: 'shifted-exponential'; shift: number; mean: number; workers?: readonly number[] | undefined }
  /**
   * Pareto(scale x_m, shape alpha): x_m U^(-1/alpha), >= x_m, P(X > x) = (x_m / x)^alpha; heavy
   * tailed (infinite mean when alpha <= 1, infinite variance when alpha <= 2). Median x_m 2^(1/alpha).
   */
  | { kind: 'pareto'; scale: number; shape: number; workers?: readonly number[] | undefined }
  /** With probability p a worker-step is slow (slowDelay seconds), else fastDelay seconds. */
  | { kind: 'bimodal'; p: number; slowDelay: number; fastDelay: number; workers?: readonly number[] | undefined }
  /**
   * A fixed set of persistently slow workers whose whole step takes `factor` times as long:
   * nominal compute `computeSec` plus the `base` delay (default none). Slow workers get
   * factor x (computeSec + base) - computeSec, the others just the base delay.
   */
  | { kind: 'persistent'; workers: readonly number[]; factor: number; computeSec: number; base?: StragglerSpec | undefined };

export type StragglerKind = StragglerSpec['kind'];

/** Throws an Error naming the field when `spec` is not a valid straggler spec. */
export function validateStragglerSpec(spec: StragglerSpec, path = 'stragglers'): void {
  const num = (name: string, v: unknown, ok: (x: number) => boolean, expect: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
      throw new Error(`${path}.${name}: expected ${expect}, got ${String(v)}`);
    }
  };
  const nonneg = (x: number): boolean => x >= 0;
  const workers = (v: unknown, required: boolean): void => {
    if (v === undefined && !required) return;
    if (!Array.isArray(v) || !v.every((w) => Number.isInteger(w) && w >= 0)) {
      throw new Error(`${path}.workers: expected a list of worker indices (integers >= 0), got ${JSON.stringify(v)}`);
    }
  };
  switch (spec.kind) {
    case 'none':
      return;
    case 'shifted-exponential':
      num('shift', spec.shift, nonneg, 'seconds >= 0');
      num('mean', spec.mean, nonneg, 'seconds >= 0');
      workers(spec.workers, false);
      return;
    case 'pareto':
      num('scale', spec.scale, (x) => x > 0, 'seconds > 0 (x_m)');
      num('shape', spec.shape, (x) => x > 0, 'a number > 0 (alpha)');
      workers(spec.workers, false);
      return;
    case 'bimodal':
      num('p', spec.p, (x) => x >= 0 && x <= 1, 'a probability in [0, 1]');
      num('slowDelay', spec.slowDelay, nonneg, 'seconds >= 0');
      num('fastDelay', spec.fastDelay, nonneg, 'seconds >= 0');
      workers(spec.workers, false);
      return;
    case 'persistent':
      workers(spec.workers, true);
      num('factor', spec.factor, (x) => x >= 1, 'a slowdown factor >= 1');
      num('computeSec', spec.computeSec, nonneg, 'seconds >= 0');
      if (spec.base !== undefined) {
        if (spec.base.kind === 'persistent') throw new Error(`${path}.base: a persistent spec cannot be nested in another`);
        validateStragglerSpec(spec.base, `${path}.base`);
      }
      return;
    default:
      throw new Error(
        `${path}.kind: expected one of none, shifted-exponential, pareto, bimodal, persistent, got ${JSON.stringify((spec as { kind: unknown }).kind)}`,
      );
  }
}

function applies(workers: readonly number[] | undefined, worker: number): boolean {
  return workers === undefined || workers.includes(worker);
}

/** Uniform in (0, 1]: never 0, so logs and negative powers stay finite. */
function uniformOpen0(rng: Rng): number {
  return 1 - rng.next();
}

/**
 * The injected delay (seconds, >= 0) of `worker` at `step` under `spec`. Pure: the same
 * (spec, seed, worker, step) always gives the same value. Validates `spec` (cheap).
 */
export function delayFor(spec: StragglerSpec, seed: number, worker: number, step: number): number {
  validateStragglerSpec(spec);
  return draw(spec, seed, worker, step);
}

function draw(spec: StragglerSpec, seed: number, worker: number, step: number): number {
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'shifted-exponential': {
      if (!applies(spec.workers, worker)) return 0;
      if (spec.mean === 0) return spec.shift;
      return spec.shift + new Rng(seed, 'straggler', spec.kind, worker, step).exponential(spec.mean);
    }
    case 'pareto': {
      if (!applies(spec.workers, worker)) return 0;
      const u = uniformOpen0(new Rng(seed, 'straggler', spec.kind, worker, step));
      return spec.scale * Math.pow(u, -1 / spec.shape);
    }
    case 'bimodal': {
      if (!applies(spec.workers, worker)) return 0;
      const slow = new Rng(seed, 'straggler', spec.kind, worker, step).next() < spec.p;
      return slow ? spec.slowDelay : spec.fastDelay;
    }
    case 'persistent': {
      const base = spec.base ? draw(spec.base, seed, worker, step) : 0;
      if (!spec.workers.includes(worker)) return base;
      return spec.factor * (spec.computeSec + base) - spec.computeSec;
    }
  }
}

/** Theoretical mean delay of a worker covered by `spec` (Infinity for Pareto with shape <= 1). */
export function meanDelay(spec: Exclude<StragglerSpec, { kind: 'persistent' }>): number {
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'shifted-exponential':
      return spec.shift + spec.mean;
    case 'pareto':
      return spec.shape <= 1 ? Infinity : (spec.shape * spec.scale) / (spec.shape - 1);
    case 'bimodal':
      return spec.p * spec.slowDelay + (1 - spec.p) * spec.fastDelay;
  }
}

/** Theoretical q-quantile (0 < q < 1) of the delay of a worker covered by `spec`. */
export function quantileDelay(spec: Exclude<StragglerSpec, { kind: 'persistent' }>, q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`quantileDelay: q must be in (0, 1), got ${q}`);
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'shifted-exponential':
      return spec.shift - spec.mean * Math.log(1 - q);
    case 'pareto':
      return spec.scale * Math.pow(1 - q, -1 / spec.shape);
    case 'bimodal': {
      const lo = Math.min(spec.slowDelay, spec.fastDelay);
      const hi = Math.max(spec.slowDelay, spec.fastDelay);
      const pLo = spec.slowDelay <= spec.fastDelay ? spec.p : 1 - spec.p;
      return q < pLo ? lo : hi;
    }
  }
}
