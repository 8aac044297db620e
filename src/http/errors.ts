/**
 * Maps errors to `{ "error": { "code", "message", "path"?, "requestId" } }` responses (docs/api.md §Errors).
 * Only AppError carries a client-facing message. A port error that reaches
 * here (a route that reads a store directly, like the anchors route) goes
 * through the same table as the use cases (src/app/port-errors.ts); anything
 * else is a bug or an unclassified dependency failure and is reported as a
 * generic 500 with the request id, never with the exception text (which may
 * hold internals).
 */
import { AppError, HTTP_STATUS } from '../app/errors.ts';
import { fromPortError } from '../app/port-errors.ts';
import { type HttpResponse, json } from './types.ts';

export interface ErrorLogger {
  error(message: string, fields: Record<string, unknown>): void;
}

export function errorResponse(thrown: unknown, requestId: string, logger?: ErrorLogger): HttpResponse {
  const err = fromPortError(thrown, 'store') ?? thrown;
  if (err instanceof AppError) {
    const status = HTTP_STATUS[err.code];
    // Errors are about this request and this caller (a 403 names the principal): never cached.
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (err.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(Math.ceil(err.retryAfterSeconds));
    if (status >= 500) logger?.error('request failed', { requestId, code: err.code, err: describe(err) });
    return json(
      status,
      {
        error: {
          ...err.details,
          code: err.code,
          message: err.message,
          ...(err.path ? { path: err.path } : {}),
          requestId,
        },
      },
      headers,
    );
  }
  logger?.error('unhandled error', { requestId, err: describe(err) });
  return json(
    500,
    { error: { code: 'INTERNAL', message: 'internal error; quote the request id', requestId } },
    { 'cache-control': 'no-store' },
  );
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      cause: err.cause ? describe(err.cause) : undefined,
    };
  }
  return { value: String(err) };
}
