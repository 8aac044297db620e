/**
 * The two ways a CLI command fails short of a crash: a bad invocation (exit 2)
 * and a check that did not pass (exit 1, with a stable reason code).
 */

/** Bad invocation: exit 2. */
export class UsageError extends Error {}

/** A check that failed: exit 1 with `code`. */
export class CheckError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
