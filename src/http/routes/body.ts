import { AppError } from '../../app/errors.ts';
import { parseJson } from '../../core/ijson.ts';
import { isValidLogId, LOG_ID_RULE } from '../../core/names.ts';
import type { HttpRequest } from '../types.ts';

/** Requires a JSON content type (charset, if given, must be UTF-8). */
export function requireJson(req: HttpRequest): void {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  const [type, ...params] = ct.split(';').map((s) => s.trim());
  if (type !== 'application/json') {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
  }
  for (const p of params) {
    if (p.startsWith('charset=') && !['charset=utf-8', 'charset="utf-8"'].includes(p)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'only UTF-8 JSON is accepted');
    }
  }
}

/** Strict I-JSON body for small admin requests; an empty body is `{}`. */
export function jsonBody(req: HttpRequest): unknown {
  if (req.body.length === 0) return {};
  requireJson(req);
  try {
    return parseJson(req.body);
  } catch (err) {
    const e = err as { message?: string; path?: string };
    throw new AppError('BAD_REQUEST', `request body is not valid JSON: ${e.message ?? String(err)}`, {
      ...(e.path ? { path: e.path } : {}),
    });
  }
}

/** The authenticated principal; routes marked `auth: 'principal'` always have one. */
export function principalOf(req: HttpRequest) {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'missing or invalid API key');
  return req.principal;
}

/** `logId` path parameter, validated before it reaches any store key. */
export function logIdOf(req: HttpRequest): string {
  const logId = req.pathParams.logId ?? '';
  if (!isValidLogId(logId)) throw new AppError('BAD_REQUEST', LOG_ID_RULE, { path: '/logId' });
  return logId;
}
