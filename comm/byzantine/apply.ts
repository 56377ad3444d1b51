/** One entry point for the config form of an attack on a sent vector (label-flip acts on data). */
import { ParameterError } from '../param-error.ts';
import { aLittleIsEnough, aLittleIsEnoughZ, gaussian, scaled, signFlip } from './attacks.ts';

export type AttackSpec =
  | { attack: 'sign-flip'; scale?: number }
  | { attack: 'scaled'; factor: number }
  | { attack: 'gaussian'; std: number; mean?: number }
  | { attack: 'a-little-is-enough'; z?: number }
  | { attack: 'label-flip' };

export interface AttackContext {
  /** Workers in the aggregation, and how many of them attack (a-little-is-enough's z). */
  n: number;
  f: number;
  /** A seeded standard-normal stream (gaussian). */
  normal: () => number;
  /** The vectors a-little-is-enough estimates mean and std from. */
  reference: readonly Float32Array[];
}

export function validateAttack(spec: AttackSpec, n: number, f: number): void {
  switch (spec.attack) {
    case 'sign-flip':
      if (spec.scale !== undefined && !(Number.isFinite(spec.scale) && spec.scale > 0)) {
        throw new ParameterError('scale', 'a finite scale > 0', String(spec.scale));
      }
      return;
    case 'scaled':
      if (!Number.isFinite(spec.factor)) throw new ParameterError('factor', 'a finite number', String(spec.factor));
      return;
    case 'gaussian':
      if (!(Number.isFinite(spec.std) && spec.std >= 0)) throw new ParameterError('std', 'a finite std >= 0', String(spec.std));
      return;
    case 'a-little-is-enough':
      if (spec.z === undefined) aLittleIsEnoughZ(n, f);
      else if (!Number.isFinite(spec.z)) throw new ParameterError('z', 'a finite number', String(spec.z));
      return;
    case 'label-flip':
      return;
    default:
      throw new ParameterError(
        'attack',
        'one of sign-flip, gaussian, scaled, label-flip, a-little-is-enough',
        String((spec as { attack: unknown }).attack),
      );
  }
}

/** out <- what the attacker sends instead of `own`. label-flip leaves the vector as it is. */
export function applyAttack(spec: AttackSpec, own: Float32Array, out: Float32Array, ctx: AttackContext): void {
  switch (spec.attack) {
    case 'sign-flip':
      return signFlip(own, out, spec.scale ?? 1);
    case 'scaled':
      return scaled(own, out, spec.factor);
    case 'gaussian':
      return gaussian(out, spec.std, ctx.normal, spec.mean ?? 0);
    case 'a-little-is-enough':
      return aLittleIsEnough(ctx.reference, spec.z ?? aLittleIsEnoughZ(ctx.n, ctx.f), out);
    case 'label-flip':
      if (out !== own) out.set(own);
      return;
  }
}
