/** Build an aggregator from its config form; parameters are validated here (ParameterError). */
import { ParameterError } from '../param-error.ts';
import type { Aggregator } from './aggregator.ts';
import { CoordinateMedianAggregator } from './coordinate-median.ts';
import { GeometricMedianAggregator, type GeometricMedianOptions } from './geometric-median.ts';
import { KrumAggregator } from './krum.ts';
import { MeanAggregator } from './mean.ts';
import { TrimmedMeanAggregator } from './trimmed-mean.ts';

export type AggregatorSpec =
  | { kind: 'mean' }
  | { kind: 'coordinate-median' }
  | { kind: 'trimmed-mean'; beta: number }
  | { kind: 'krum'; f: number }
  | { kind: 'multi-krum'; f: number; m?: number }
  | ({ kind: 'geometric-median' } & GeometricMedianOptions);

/** n: how many vectors each aggregation receives (Krum's bound depends on it). */
export function createAggregator(spec: AggregatorSpec, n: number): Aggregator {
  switch (spec.kind) {
    case 'mean':
      return new MeanAggregator();
    case 'coordinate-median':
      return new CoordinateMedianAggregator();
    case 'trimmed-mean':
      return new TrimmedMeanAggregator(spec.beta);
    case 'krum':
      return new KrumAggregator(n, spec.f, 1);
    case 'multi-krum':
      // Blanchard et al. leave m free; n - f (every vector an honest majority could send) is the default.
      return new KrumAggregator(n, spec.f, spec.m ?? n - spec.f);
    case 'geometric-median':
      return new GeometricMedianAggregator(spec);
    default: {
      const kind = (spec as { kind: unknown }).kind;
      throw new ParameterError(
        'kind',
        'one of mean, coordinate-median, trimmed-mean, krum, multi-krum, geometric-median',
        String(kind),
      );
    }
  }
}
