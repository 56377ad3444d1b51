export {
  analyticDelta,
  analyticGaussianSigma,
  classicGaussianSigma,
  gaussianSigma,
  validatePrivacy,
  type Calibration,
  type GaussianMechanismParams,
} from './gaussian-mechanism.ts';
export { addGaussianNoise, clipL2, privatize } from './mechanism.ts';
export { plainComposition, PlainCompositionAccountant } from './accountant.ts';
