import { ParameterError } from '../../../comm/param-error.ts';

/** beta >= 1 (an encoding adds redundancy; it never drops data) and at least one data row. */
export function checkRedundancy(n: number, beta: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new ParameterError('samples', 'at least one data row', String(n));
  if (!(Number.isFinite(beta) && beta >= 1)) throw new ParameterError('beta', 'a redundancy factor beta >= 1', String(beta));
}
