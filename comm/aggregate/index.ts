export { type Aggregator, sortAscending } from './aggregator.ts';
export { MeanAggregator } from './mean.ts';
export { CoordinateMedianAggregator } from './coordinate-median.ts';
export { TrimmedMeanAggregator, validateTrimmedMean } from './trimmed-mean.ts';
export { KrumAggregator, validateKrum } from './krum.ts';
export { GeometricMedianAggregator, validateGeometricMedian, type GeometricMedianOptions } from './geometric-median.ts';
export { createAggregator, type AggregatorSpec } from './factory.ts';
