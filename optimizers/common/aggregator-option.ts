/**
 * The `aggregator` key of the algorithms that can combine their workers' gradients robustly
 * (allreduce-sgd, compressed-sgd, backup-workers). Two YAML forms:
 *
 *   aggregator: coordinate-median                 (a bare name: every parameter at its default)
 *   aggregator: { kind: krum, f: 2 }              (a mapping: kind plus that aggregator's keys)
 *
 * Krum and Multi-Krum have no default f (it is the number of attackers the user guards against),
 * so they need the mapping form; trimmed-mean's beta defaults to 0.1. The schema admits a string
 * or a mapping; `aggregatorRules` checks the rest and names the key that is wrong.
 */
import { createAggregator, type Aggregator, type AggregatorSpec } from '../../comm/aggregate/index.ts';
import { ParameterError } from '../../comm/param-error.ts';
import type { JsonSchema, RuleContext } from '../algorithm.ts';

export const AGGREGATOR_KINDS = ['mean', 'coordinate-median', 'trimmed-mean', 'krum', 'multi-krum', 'geometric-median'] as const;

/** What the YAML holds after the schema: a name or a mapping. */
export type AggregatorConfig = string | Record<string, unknown>;

/** The keys each kind takes besides `kind`. */
const KEYS: Record<(typeof AGGREGATOR_KINDS)[number], string[]> = {
  mean: [],
  'coordinate-median': [],
  'trimmed-mean': ['beta'],
  krum: ['f'],
  'multi-krum': ['f', 'm'],
  'geometric-median': ['tol', 'maxIter', 'nu'],
};

export const aggregatorOption: JsonSchema = {
  type: ['string', 'object'],
  default: 'mean',
  description:
    'How the workers\' gradients are combined: mean, coordinate-median, trimmed-mean (beta, default 0.1), krum (f), multi-krum (f, m = n - f), geometric-median (tol 1e-6, maxIter 100, nu 1e-6); a name, or { kind, ...keys } (krum and multi-krum need f). Anything but mean exchanges every gradient (an all-gather, or through the master) instead of summing them (see comm/aggregate/README.md).',
};

/** The aggregator's spec from its YAML form; throws ParameterError naming the key (relative to `aggregator`). */
export function aggregatorSpecOf(v: AggregatorConfig | undefined): AggregatorSpec {
  if (v === undefined) return { kind: 'mean' };
  const o: Record<string, unknown> = typeof v === 'string' ? { kind: v } : v;
  const kind = o['kind'];
  if (typeof kind !== 'string' || !(AGGREGATOR_KINDS as readonly string[]).includes(kind)) {
    throw new ParameterError('kind', `one of ${AGGREGATOR_KINDS.join(', ')}`, kind === undefined ? 'nothing' : JSON.stringify(kind));
  }
  const k = kind as (typeof AGGREGATOR_KINDS)[number];
  for (const key of Object.keys(o)) {
    if (key !== 'kind' && !KEYS[k].includes(key)) {
      throw new ParameterError(key, KEYS[k].length > 0 ? `one of the keys of ${k}: ${KEYS[k].join(', ')}` : `no other key for ${k}`, 'an unknown key');
    }
  }
  const num = (key: string): number | undefined => {
    const x = o[key];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new ParameterError(key, 'a finite number', JSON.stringify(x));
    return x;
  };
  switch (k) {
    case 'mean':
    case 'coordinate-median':
      return { kind: k };
    case 'trimmed-mean':
      return { kind: k, beta: num('beta') ?? 0.1 };
    case 'krum':
    case 'multi-krum': {
      const f = num('f');
      if (f === undefined) throw new ParameterError('f', `the number of Byzantine workers to tolerate for ${k} (aggregator: { kind: ${k}, f: 1 })`, 'nothing');
      const m = k === 'multi-krum' ? num('m') : undefined;
      return k === 'krum' ? { kind: k, f } : { kind: k, f, ...(m !== undefined ? { m } : {}) };
    }
    case 'geometric-median': {
      const tol = num('tol');
      const maxIter = num('maxIter');
      const nu = num('nu');
      return { kind: k, ...(tol !== undefined ? { tol } : {}), ...(maxIter !== undefined ? { maxIter } : {}), ...(nu !== undefined ? { nu } : {}) };
    }
  }
}

/** True for the plain average (the default): algorithms keep their summing collectives. */
export function isMeanAggregator(v: AggregatorConfig | undefined): boolean {
  return v === undefined || v === 'mean' || (typeof v === 'object' && v['kind'] === 'mean' && Object.keys(v).length === 1);
}

/**
 * Check the key for `n` vectors per aggregation (Krum: n > 2f + 2), failing at
 * `optimizer.aggregator[.key]` with what was expected and found.
 */
export function aggregatorRules(v: AggregatorConfig | undefined, n: number, ctx: RuleContext, what = `${n} workers`): void {
  const path = (key: string) => (typeof v === 'object' ? `optimizer.aggregator.${key}` : 'optimizer.aggregator');
  try {
    createAggregator(aggregatorSpecOf(v), n);
  } catch (e) {
    if (!(e instanceof ParameterError)) throw e;
    ctx.fail(path(e.key), `expected ${e.expected.replace(`n = ${n} workers`, `n = ${what}`)}, found ${e.found}`);
  }
}

/** summary.json's `aggregator` (its name with parameters, e.g. `krum(f=3)`), or nothing for the mean. */
export function aggregatorSummary(v: AggregatorConfig | undefined, n: number): Record<string, unknown> {
  return isMeanAggregator(v) ? {} : { aggregator: createAggregator(aggregatorSpecOf(v), n).name };
}

/**
 * Aggregators of one spec for each number of inputs they are called with (backup workers and
 * crashes change it; Krum is built for one n). Each keeps its scratch between calls.
 */
export class AggregatorPool {
  private readonly byCount = new Map<number, Aggregator>();
  constructor(readonly spec: AggregatorSpec) {}

  get(n: number): Aggregator {
    let a = this.byCount.get(n);
    if (!a) this.byCount.set(n, (a = createAggregator(this.spec, n)));
    return a;
  }
}
