/**
 * An invalid parameter of a numerical core (an aggregator's f, a mixing matrix, a privacy budget,
 * an encoding size...). comm/ cannot import the config layer, so the core names the offending
 * key (relative to the block it was configured in, e.g. `f` or `mixing.weights`), what it expected
 * and what it found; the config layer prefixes the block's path and its file:line:col and turns
 * it into its one-line, exit-code-2 error.
 */
export class ParameterError extends Error {
  override name = 'ParameterError';
  constructor(
    /** The key the value came from, relative to its block, e.g. `f` or `privacy.epsilon`. */
    readonly key: string,
    /** What a valid value is, e.g. `an integer f with n > 2f + 2 (n = 7)`. */
    readonly expected: string,
    /** The value (or a short description of it) that was given. */
    readonly found: string,
  ) {
    super(`${key}: expected ${expected}, found ${found}`);
  }
}
