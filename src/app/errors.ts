/**
 * Errors raised by use cases. Each code has one HTTP status and one meaning,
 * so the HTTP edge maps them mechanically (`HTTP_STATUS` below, used by
 * src/http/errors.ts; docs/api.md §Errors) and never collapses pushback,
 * conflict and corruption into a bare 500. Port errors become AppErrors
 * through one table, src/app/port-errors.ts.
 */
import { AnchorlogError } from '../core/errors.ts';

export type AppErrorCode =
  | 'BAD_REQUEST' // 400: malformed or invalid input; message names the field
  | 'SIGNATURE_INVALID' // 400: a producer signature does not verify (docs/producer-signatures.md)
  | 'SIGNATURE_KEY_UNKNOWN' // 400: the signing key is not registered to the submitter
  | 'SIGNATURE_KEY_INACTIVE' // 400: the signing key is revoked, expired or not yet valid
  | 'SIGNATURE_REQUIRED' // 400: the log's signature policy requires a signature on this event
  | 'UNAUTHENTICATED' // 401: missing, malformed, unknown or revoked credential
  | 'KEY_EXPIRED' // 401: the right key, past its kind's maximum age (docs/access.md); rotate it
  | 'FORBIDDEN' // 403: authenticated, but the principal lacks the scope
  | 'NOT_FOUND' // 404: unknown log, principal, route, checkpoint…
  | 'CONFLICT' // 409: e.g. an Idempotency-Key reused with a different body
  | 'IN_PROGRESS' // 409 + Retry-After: the same Idempotency-Key is being processed
  | 'PAYLOAD_TOO_LARGE' // 413: body, batch or a single record over its limit
  | 'UNSUPPORTED_MEDIA_TYPE' // 415
  | 'THROTTLED' // 429 + Retry-After: we or the store pushed back; retry later
  | 'UNAVAILABLE' // 503 + Retry-After: a dependency failed transiently; retry is safe
  | 'INTEGRITY' // 500: stored state contradicts itself; needs an operator
  | 'INTERNAL'; // 500: a bug

export class AppError extends AnchorlogError<AppErrorCode> {
  /** Seconds the client should wait before retrying (429/503/409 IN_PROGRESS). */
  readonly retryAfterSeconds: number | undefined;
  /** JSON-pointer-ish location of the offending input, e.g. /events/3/actor/type. */
  readonly path: string | undefined;
  /**
   * More about client input that was refused, added to the error body beside
   * `code`, `message` and `path` (never replacing them): an invalid rule
   * document's `reason` (its RuleError code) and `position` in the expression.
   */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(
    code: AppErrorCode,
    message: string,
    opts: {
      retryAfterSeconds?: number;
      path?: string;
      details?: Readonly<Record<string, unknown>>;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, { cause: opts.cause });
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.path = opts.path;
    this.details = opts.details;
  }
}

export const HTTP_STATUS: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  SIGNATURE_INVALID: 400,
  SIGNATURE_KEY_UNKNOWN: 400,
  SIGNATURE_KEY_INACTIVE: 400,
  SIGNATURE_REQUIRED: 400,
  UNAUTHENTICATED: 401,
  KEY_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  THROTTLED: 429,
  UNAVAILABLE: 503,
  INTEGRITY: 500,
  INTERNAL: 500,
};
