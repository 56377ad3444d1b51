export { type Adjacency, components, requireConnected, ringGraph, validateGraph } from './graph.ts';
export { averagingMatrix, checkMixingMatrix, metropolisHastings, MixingMatrix, uniformWeights, userMatrix } from './mixing-matrix.ts';
export { mixingEigenvalues, requireContraction, secondLargestEigenvalueModulus } from './spectral.ts';
export { consensusDistance, consensusDistanceOf, gossipStep, mixRow } from './gossip-step.ts';
export { ChocoGossip, identityCompressor, type DecodedCompressor } from './choco.ts';
