import { parseUnitQuantity, type Dimension } from './unit-parser.ts';

export type QuantityKind = 'bandwidth' | 'time' | 'flops';

const TARGET: Record<QuantityKind, { dimension: Dimension; example: string }> = {
  bandwidth: { dimension: 'bit/s', example: '"1 Gb/s" or "100 MB/s"' },
  time: { dimension: 's', example: '"50 us", "10 ms" or "0 s"' },
  flops: { dimension: 'FLOP/s', example: '"1 TFLOP/s"' },
};

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
  const q = parseUnitQuantity(raw);
  if (q === null) return `expected ${quantityExpectation(kind)}, found "${raw}"`;
  if (q.dimension !== TARGET[kind].dimension) return `expected ${quantityExpectation(kind)}, found "${raw}" (wrong units)`;
  let value = q.value;
  // Round away binary noise from unit prefixes (50 us -> 5e-5, not 4.9999999999999996e-5).
  value = Number(value.toPrecision(15));
  if (!Number.isFinite(value) || value < 0) return `expected a non-negative ${kind}, found "${raw}"`;
  if (kind !== 'time' && value === 0) return `expected a positive ${kind}, found "${raw}"`;
  return value;
}
