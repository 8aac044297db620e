/**
 * Typed errors for the pure core, in the style of sigstore-js: one class per
 * area, each with a string-union `code` that is stable across releases.
 * Tests assert class + code, never message text. Codes map onto HTTP statuses
 * (see src/app/http-errors.ts) and CLI exit codes.
 */
export class AnchorlogError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
