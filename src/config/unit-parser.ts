/**
 * The few physical units an experiment file speaks: data (bits, bytes), time and FLOPs, alone or
 * per unit of time. Hand-written instead of mathjs because loading mathjs took over a second of
 * every `dtemu` start-up; the accepted spellings follow mathjs's (short SI prefixes on b, B, s
 * and FLOP; long prefixes on bit/byte/second; binary prefixes Ki..Ei on b and B).
 */

export type Dimension = 'bit' | 's' | 'FLOP' | 'bit/s' | 'FLOP/s' | 'FLOP/bit' | '1/s' | 'other';

const SHORT: Record<string, number> = {
  Q: 1e30, R: 1e27, Y: 1e24, Z: 1e21, E: 1e18, P: 1e15, T: 1e12, G: 1e9, M: 1e6, k: 1e3, h: 1e2, da: 1e1,
  d: 1e-1, c: 1e-2, m: 1e-3, u: 1e-6, 'µ': 1e-6, n: 1e-9, p: 1e-12, f: 1e-15, a: 1e-18,
};
const LONG: Record<string, number> = {
  exa: 1e18, peta: 1e15, tera: 1e12, giga: 1e9, mega: 1e6, kilo: 1e3, milli: 1e-3, micro: 1e-6, nano: 1e-9, pico: 1e-12,
};
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

interface BaseUnit {
  dim: 'bit' | 's' | 'FLOP';
  factor: number;
  prefixes: Record<string, number>[];
}

const BASES: Record<string, BaseUnit> = {
  b: { dim: 'bit', factor: 1, prefixes: [SHORT, BINARY] },
  bit: { dim: 'bit', factor: 1, prefixes: [LONG] },
  bits: { dim: 'bit', factor: 1, prefixes: [LONG] },
  B: { dim: 'bit', factor: 8, prefixes: [SHORT, BINARY] },
  byte: { dim: 'bit', factor: 8, prefixes: [LONG] },
  bytes: { dim: 'bit', factor: 8, prefixes: [LONG] },
  s: { dim: 's', factor: 1, prefixes: [SHORT] },
  sec: { dim: 's', factor: 1, prefixes: [] },
  secs: { dim: 's', factor: 1, prefixes: [] },
  second: { dim: 's', factor: 1, prefixes: [LONG] },
  seconds: { dim: 's', factor: 1, prefixes: [LONG] },
  min: { dim: 's', factor: 60, prefixes: [] },
  mins: { dim: 's', factor: 60, prefixes: [] },
  minute: { dim: 's', factor: 60, prefixes: [] },
  minutes: { dim: 's', factor: 60, prefixes: [] },
  h: { dim: 's', factor: 3600, prefixes: [] },
  hr: { dim: 's', factor: 3600, prefixes: [] },
  hour: { dim: 's', factor: 3600, prefixes: [] },
  hours: { dim: 's', factor: 3600, prefixes: [] },
  day: { dim: 's', factor: 86400, prefixes: [] },
  days: { dim: 's', factor: 86400, prefixes: [] },
  FLOP: { dim: 'FLOP', factor: 1, prefixes: [SHORT] },
  FLOPs: { dim: 'FLOP', factor: 1, prefixes: [SHORT] },
  flop: { dim: 'FLOP', factor: 1, prefixes: [SHORT] },
};

/** One unit word (prefix + base) -> its dimension and SI factor; the unprefixed reading wins. */
function unitWord(word: string): { dim: BaseUnit['dim']; factor: number } | null {
  const direct = BASES[word];
  if (direct) return { dim: direct.dim, factor: direct.factor };
  for (const [name, base] of Object.entries(BASES)) {
    if (!word.endsWith(name) || word.length === name.length) continue;
    const prefix = word.slice(0, word.length - name.length);
    for (const table of base.prefixes) {
      const p = table[prefix];
      if (p !== undefined) return { dim: base.dim, factor: p * base.factor };
    }
  }
  return null;
}

const NUMBER = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$/;

/**
 * "1 Gb/s" -> { value: 1e9, dimension: 'bit/s' }; null when the text is not a number followed by
 * a unit or a unit per unit.
 */
export function parseUnitQuantity(text: string): { value: number; dimension: Dimension } | null {
  const m = NUMBER.exec(text.trim());
  if (!m) return null;
  const num = Number(m[1]);
  const unitText = m[2]!.trim();
  if (unitText === '') return { value: num, dimension: 'other' };
  const parts = unitText.split('/').map((p) => p.trim());
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-zµ]+$/.test(p))) return null;
  const top = unitWord(parts[0]!);
  if (!top) return null;
  if (parts.length === 1) return { value: num * top.factor, dimension: top.dim };
  const bottom = unitWord(parts[1]!);
  if (!bottom) return null;
  const dim = `${top.dim}/${bottom.dim}`;
  const known: Dimension[] = ['bit/s', 'FLOP/s', 'FLOP/bit'];
  return { value: (num * top.factor) / bottom.factor, dimension: known.includes(dim as Dimension) ? (dim as Dimension) : 'other' };
}
