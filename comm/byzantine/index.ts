export { aLittleIsEnough, aLittleIsEnoughZ, flipLabel, flipLabelsInPlace, gaussian, scaled, signFlip } from './attacks.ts';
export { applyAttack, validateAttack, type AttackContext, type AttackSpec } from './apply.ts';
