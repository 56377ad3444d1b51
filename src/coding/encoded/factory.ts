/** The config form of an encoding -> its matrix, with the size rules checked (ParameterError). */
import { ParameterError } from '../../../comm/param-error.ts';
import type { Encoding } from './encoding.ts';
import { paleyEtfEncoding } from './etf-paley.ts';
import { harmonicEtfEncoding } from './etf-harmonic.ts';
import { gaussianEncoding } from './gaussian-encoding.ts';
import { HadamardEncoding } from './hadamard-encoding.ts';
import { checkRedundancy } from './validate.ts';

export type EncodingSpec =
  | { kind: 'gaussian'; beta: number }
  | { kind: 'hadamard'; beta: number }
  /** The ETF fixes its redundancy; a given beta must match it (within 1e-9). */
  | { kind: 'etf'; construction?: 'paley' | 'harmonic'; beta?: number; differenceSet?: { set: number[]; v: number } }
  | { kind: 'uncoded' };

/** n: data rows; seed: the run's seed (random encodings draw from it). */
export function createEncoding(spec: EncodingSpec, n: number, seed: number): Encoding | null {
  switch (spec.kind) {
    case 'uncoded':
      return null;
    case 'gaussian':
      return gaussianEncoding(n, spec.beta, seed);
    case 'hadamard':
      return new HadamardEncoding(n, spec.beta, seed);
    case 'etf': {
      if (spec.beta !== undefined) checkRedundancy(n, spec.beta);
      const construction = spec.construction ?? 'paley';
      if (construction !== 'paley' && construction !== 'harmonic') {
        throw new ParameterError('construction', 'paley or harmonic', String(construction));
      }
      const enc = construction === 'paley' ? paleyEtfEncoding(n) : harmonicEtfEncoding(n, spec.differenceSet);
      const beta = enc.rows / enc.cols;
      if (spec.beta !== undefined && Math.abs(spec.beta - beta) > 1e-9) {
        throw new ParameterError('beta', `the ${construction} ETF's own redundancy ${enc.rows}/${enc.cols} = ${beta} for N = ${n} (or leave beta out)`, String(spec.beta));
      }
      return enc;
    }
    default:
      throw new ParameterError('encoding', 'one of gaussian, hadamard, etf, uncoded', String((spec as { kind: unknown }).kind));
  }
}
