/**
 * Compressors from plain spec objects (what a YAML experiment holds), e.g.
 *   { kind: 'topk', ratio: 0.01 }            { kind: 'qsgd', levels: 4 }
 *   { kind: 'randomk', ratio: 0.1, scaled: true, values: 'f16' }
 *   { kind: 'qsgd-topk', ratio: 0.01, levels: 8, perTensor: true }   (+ segments)
 * Every spec is checked as if it came from a user: unknown kinds and keys, ratios outside (0, 1],
 * levels < 1 ... throw an Error that names the key and what was found.
 */
import { Bf16Cast, Fp16Cast } from './cast16.ts';
import type { Compressor } from './compressor.ts';
import { Identity } from './identity.ts';
import { PerTensor, type Segment } from './per-tensor.ts';
import { checkLevels, Qsgd } from './qsgd.ts';
import { QsgdTopK } from './qsgd-topk.ts';
import { RandomK } from './randomk.ts';
import { checkRatio } from './ratio.ts';
import { ScaledSign } from './sign.ts';
import { SignTopK } from './sign-topk.ts';
import { TernGrad } from './terngrad.ts';
import { checkTau, Threshold } from './threshold.ts';
import { checkValueType, TopK } from './topk.ts';
import type { ValueType } from './sparse-codec.ts';

interface Common {
  /** Compress each segment (tensor) separately; needs the segments. */
  perTensor?: boolean;
}

export type CompressorSpec = Common &
  (
    | { kind: 'none' }
    | { kind: 'fp16' }
    | { kind: 'bf16' }
    | { kind: 'sign' }
    | { kind: 'terngrad' }
    | { kind: 'topk'; ratio: number; values?: ValueType }
    | { kind: 'randomk'; ratio: number; scaled?: boolean; values?: ValueType }
    | { kind: 'threshold'; tau: number; values?: ValueType }
    | { kind: 'qsgd'; levels: number }
    | { kind: 'qsgd-topk'; ratio: number; levels: number }
    | { kind: 'sign-topk'; ratio: number }
  );

export type CompressorKind = CompressorSpec['kind'];

/** The keys each kind accepts besides `kind` and `perTensor`. */
const KEYS: Record<CompressorKind, readonly string[]> = {
  none: [],
  fp16: [],
  bf16: [],
  sign: [],
  terngrad: [],
  topk: ['ratio', 'values'],
  randomk: ['ratio', 'scaled', 'values'],
  threshold: ['tau', 'values'],
  qsgd: ['levels'],
  'qsgd-topk': ['ratio', 'levels'],
  'sign-topk': ['ratio'],
};

export const COMPRESSOR_KINDS = Object.keys(KEYS) as CompressorKind[];

/** Throw unless `spec` is a valid spec; returns it typed. */
export function checkCompressorSpec(spec: unknown): CompressorSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new Error(`compressor spec must be an object like {kind: 'topk', ratio: 0.01}, got ${JSON.stringify(spec)}`);
  }
  const o = spec as Record<string, unknown>;
  const kind = o['kind'];
  if (typeof kind !== 'string' || !Object.hasOwn(KEYS, kind)) {
    throw new Error(`compressor kind must be one of ${COMPRESSOR_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const who = `compressor '${kind}'`;
  const allowed = new Set(['kind', 'perTensor', ...KEYS[kind as CompressorKind]]);
  for (const key of Object.keys(o)) {
    if (!allowed.has(key)) throw new Error(`${who}: unknown key '${key}' (expected ${[...allowed].join(', ')})`);
  }
  for (const key of KEYS[kind as CompressorKind]) {
    const optional = key === 'values' || key === 'scaled';
    if (!optional && o[key] === undefined) throw new Error(`${who}: missing '${key}'`);
  }
  if (o['perTensor'] !== undefined && typeof o['perTensor'] !== 'boolean') throw new Error(`${who}: perTensor must be true or false, got ${JSON.stringify(o['perTensor'])}`);
  if (o['scaled'] !== undefined && typeof o['scaled'] !== 'boolean') throw new Error(`${who}: scaled must be true or false, got ${JSON.stringify(o['scaled'])}`);
  if ('ratio' in o) checkRatio(o['ratio'], who);
  if ('levels' in o) checkLevels(o['levels'], who);
  if ('tau' in o) checkTau(o['tau'], who);
  if ('values' in o) checkValueType(o['values'], who);
  return spec as CompressorSpec;
}

/** One compressor for a whole vector (ignores perTensor). */
function single(spec: CompressorSpec): Compressor {
  switch (spec.kind) {
    case 'none':
      return new Identity();
    case 'fp16':
      return new Fp16Cast();
    case 'bf16':
      return new Bf16Cast();
    case 'sign':
      return new ScaledSign();
    case 'terngrad':
      return new TernGrad();
    case 'topk':
      return new TopK(spec.ratio, { values: spec.values });
    case 'randomk':
      return new RandomK(spec.ratio, { scaled: spec.scaled, values: spec.values });
    case 'threshold':
      return new Threshold(spec.tau, { values: spec.values });
    case 'qsgd':
      return new Qsgd(spec.levels);
    case 'qsgd-topk':
      return new QsgdTopK(spec.ratio, spec.levels);
    case 'sign-topk':
      return new SignTopK(spec.ratio);
  }
}

/**
 * Build the compressor a spec describes. With `perTensor: true` the segments (the tensors'
 * ranges in the flat vector, in order) are required and every segment gets its own instance;
 * without it, segments are ignored and one compressor handles the whole vector.
 */
export function createCompressor(spec: CompressorSpec, segments?: readonly Segment[]): Compressor {
  const s = checkCompressorSpec(spec);
  if (s.perTensor === true) {
    if (!segments) throw new Error(`compressor '${s.kind}': perTensor needs the segments (tensor offsets and sizes)`);
    return new PerTensor(segments, () => single(s));
  }
  return single(s);
}
