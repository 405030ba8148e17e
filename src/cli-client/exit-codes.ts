/** Exit codes of `demo`, `export` and `exports`, which scripts can rely on (documented in the README). */
export const ExitCode = {
  /** The command did its job (the run completed). */
  Done: 0,
  /** The export run failed, was cancelled or ended partial. */
  RunFailed: 1,
  /** Bad arguments or configuration: fix the command line or environment. */
  Usage: 2,
  /** The API could not be reached (or answered with a server error). */
  ApiUnreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
