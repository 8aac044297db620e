/**
 * Typed errors for the pure core, in the style of sigstore-js: one class per
 * area, each with a string-union `code` that is stable across releases.
 * Tests assert class + code, never message text. Use cases turn them into
 * AppError codes, one HTTP status each (src/app/errors.ts, answered by
 * src/http/errors.ts: docs/api.md §Errors); the CLI into exit codes
 * (src/cli/errors.ts, src/cli/verdict.ts).
 */
export class AnchorlogError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
