/**
 * An error caused by the user's input (config, flags, data files). The CLI prints its message
 * as one line and exits with code 2; everything else is a bug or a runtime failure.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A failure of the run itself (a worker died, a peer was refused): exit code 1, one line. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'RunError';
  }
}
