/**
 * The two ways a CLI command fails short of a crash: a bad invocation (exit 2)
 * and a check that did not pass (exit 1, with a stable reason code). Both
 * reach the user through command.ts, escaped, as text or as JSON.
 */

export type UsageCode =
  /** No command (or subcommand) of that name. */
  | 'UNKNOWN_COMMAND'
  /** A flag the command does not take. */
  | 'UNKNOWN_OPTION'
  /** A positional argument the command does not take (or one too many). */
  | 'UNEXPECTED_ARGUMENT'
  /** A required positional argument is absent. */
  | 'MISSING_ARGUMENT'
  /** A required flag is absent (and no environment variable stands in for it). */
  | 'MISSING_OPTION'
  /** A single-valued flag given more than once: which one was meant is a guess we do not make. */
  | 'REPEATED_OPTION'
  /** Flags that exclude each other given together. */
  | 'CONFLICTING_OPTIONS'
  /** A value of the wrong form, a flag without its value, or a value given to a plain flag. */
  | 'BAD_VALUE'
  /** A file named on the command line cannot be read. */
  | 'UNREADABLE_FILE'
  /** A file named on the command line is not what the flag needs (TRUST.json, a vkey list, certificates). */
  | 'BAD_FILE'
  /** The output file cannot be written (or exists and must not be replaced). */
  | 'BAD_OUTPUT';

/** Bad invocation: exit 2, with the command's usage line. */
export class UsageError extends Error {
  constructor(
    readonly code: UsageCode,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A check that failed: exit 1 with `code`. */
export class CheckError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CheckError';
  }
}
