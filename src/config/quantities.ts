import { createRequire } from 'node:module';
import type { MathJsInstance, Unit } from 'mathjs';

export type QuantityKind = 'bandwidth' | 'time' | 'flops';

const TARGET: Record<QuantityKind, { unit: string; example: string }> = {
  bandwidth: { unit: 'b/s', example: '"1 Gb/s" or "100 MB/s"' },
  time: { unit: 's', example: '"50 us", "10 ms" or "0 s"' },
  flops: { unit: 'FLOP/s', example: '"1 TFLOP/s"' },
};

let mathInstance: MathJsInstance | null = null;

/**
 * mathjs with the units the field speaks: bits and bytes (b, B with prefixes), s, and FLOP.
 * Loaded on first use from mathjs's single-file bundle: its ES-module entry loads hundreds of
 * files (about 1 s), the bundle about 0.1 s, which keeps `dtemu validate` under a second.
 */
function math(): MathJsInstance {
  if (mathInstance) return mathInstance;
  const bundle = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as typeof import('mathjs');
  const m = bundle.create(bundle.all);
  m.createUnit('FLOP', { prefixes: 'short', aliases: ['FLOPs', 'flop'] } as never);
  mathInstance = m;
  return m;
}

/** "expected ..." text for error messages. */
export function quantityExpectation(kind: QuantityKind): string {
  return `a ${kind === 'flops' ? 'compute speed' : kind} with units like ${TARGET[kind].example}`;
}

/**
 * Parse "1 Gb/s" / "50 us" / "2 TFLOP/s" into SI numbers (bits/s, seconds, FLOP/s).
 * Returns an error string instead of throwing so the validator can place the message.
 */
export function parseQuantity(kind: QuantityKind, raw: unknown): number | string {
  if (typeof raw !== 'string') return `expected ${quantityExpectation(kind)}, found ${JSON.stringify(raw)}`;
  // mathjs spells micro 'u'; people also write the micro sign.
  const text = raw.trim().replace(/[µμ]/g, 'u');
  let u: Unit;
  try {
    u = math().unit(text);
  } catch {
    return `expected ${quantityExpectation(kind)}, found "${raw}"`;
  }
  let value: number;
  try {
    value = u.toNumber(TARGET[kind].unit);
  } catch {
    return `expected ${quantityExpectation(kind)}, found "${raw}" (wrong units)`;
  }
  // Round away binary noise from unit prefixes (50 us -> 5e-5, not 4.9999999999999996e-5).
  value = Number(value.toPrecision(15));
  if (!Number.isFinite(value) || value < 0) return `expected a non-negative ${kind}, found "${raw}"`;
  if (kind !== 'time' && value === 0) return `expected a positive ${kind}, found "${raw}"`;
  return value;
}
