/**
 * The steps at which a local method (DiLoCo-style: H inner steps per outer step) takes an outer
 * step: every H steps, and at the last step so that no local progress is left unsynchronized.
 */
export function isOuterStep(step: number, h: number, steps: number): boolean {
  return step % h === 0 || step === steps;
}
