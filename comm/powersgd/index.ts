/**
 * PowerSGD for dtemu's optimizers: the numerical core (`PowerSgd`) and a helper that wires it to
 * ring all-reduce over an Endpoint (the bytes of P and Q really travel, and are counted, there).
 */
import type { Endpoint } from '../endpoint.ts';
import { ringAllReduce } from '../collectives/ring-allreduce.ts';
import { PowerSgd, type PowerSgdLayer, type PowerSgdOptions } from './powersgd.ts';

export { PowerSgd } from './powersgd.ts';
export type { PowerSgdCompression, PowerSgdLayer, PowerSgdLayerPlan, PowerSgdOptions, SumAllReduce } from './powersgd.ts';
export { DEPENDENT_COLUMN_TOLERANCE, mulMQ, mulMtP, mulPQt, orthonormalizeColumns } from './linalg.ts';
export { NormalStream, streamSeed } from './prng.ts';

/** PowerSGD whose all-reduces are ring all-reduces (sum) on `ep`, averaged over ep.size workers. */
export function powerSgdOnRing(ep: Endpoint, layers: readonly PowerSgdLayer[], options: PowerSgdOptions): PowerSgd {
  return new PowerSgd(layers, options, (data) => ringAllReduce(ep, data), ep.size);
}
