/**
 * Access reviews in the admin API (`/v1/admin/access-reviews…`,
 * docs/access.md "Access reviews", docs/api.md §Routes): scope
 * `access:review` on `*` (a global `admin` implies it). Every start,
 * decision and close is recorded in the `system` log by AccessReviewService
 * before the response; a refused one answers 400/404/409 with the stable code
 * in `reason`, and nothing was written.
 */
import type { AccessReviewService } from '../../app/access-reviews.ts';
import { AppError } from '../../app/errors.ts';
import { accessReviewCsv } from '../../core/access-review.ts';
import type { Route } from '../router.ts';
import type { HttpRequest } from '../types.ts';
import { json } from '../types.ts';
import { jsonBody, principalOf } from './body.ts';

const BASE = '/v1/admin/access-reviews';

function query(req: HttpRequest, name: string): string | undefined {
  const v = req.query[name];
  if (v !== undefined && v.length > 256)
    throw new AppError('BAD_REQUEST', `${name} is too long`, { path: `/query/${name}` });
  return v;
}

function limitOf(req: HttpRequest): number | undefined {
  const raw = req.query.limit;
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,3}$/.test(raw))
    throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', { path: '/query/limit' });
  return Number(raw);
}

const idOf = (req: HttpRequest) => req.pathParams.id ?? '';

export function accessReviewRoutes(deps: { reviews: AccessReviewService }): Route[] {
  const { reviews } = deps;
  return [
    {
      method: 'GET',
      pattern: BASE,
      auth: 'principal',
      async handle(req) {
        const cursor = query(req, 'cursor');
        const limit = limitOf(req);
        return json(
          200,
          await reviews.list(principalOf(req), {
            ...(cursor !== undefined ? { cursor } : {}),
            ...(limit !== undefined ? { limit } : {}),
          }),
        );
      },
    },
    {
      method: 'POST',
      pattern: BASE,
      auth: 'principal',
      async handle(req) {
        return json(201, await reviews.start(principalOf(req), jsonBody(req), { requestId: req.requestId }));
      },
    },
    {
      method: 'GET',
      pattern: `${BASE}/{id}`,
      auth: 'principal',
      async handle(req) {
        return json(200, await reviews.show(principalOf(req), idOf(req)));
      },
    },
    {
      method: 'POST',
      pattern: `${BASE}/{id}/decisions`,
      auth: 'principal',
      async handle(req) {
        const body = jsonBody(req);
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new AppError('BAD_REQUEST', 'body must be a JSON object', {
            path: '',
            details: { reason: 'INVALID_BODY' },
          });
        const { principalId, ...rest } = body as Record<string, unknown>;
        if (typeof principalId !== 'string')
          throw new AppError('BAD_REQUEST', 'principalId must be a principal id', {
            path: '/principalId',
            details: { reason: 'INVALID_PRINCIPAL_ID' },
          });
        return json(
          200,
          await reviews.decide(principalOf(req), idOf(req), principalId, rest, { requestId: req.requestId }),
        );
      },
    },
    {
      method: 'POST',
      pattern: `${BASE}/{id}/close`,
      auth: 'principal',
      async handle(req) {
        const body = jsonBody(req);
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0)
          throw new AppError('BAD_REQUEST', 'close takes no body (or {})', {
            path: '',
            details: { reason: 'INVALID_BODY' },
          });
        return json(200, await reviews.close(principalOf(req), idOf(req), { requestId: req.requestId }));
      },
    },
    {
      method: 'GET',
      pattern: `${BASE}/{id}/report`,
      auth: 'principal',
      async handle(req) {
        const format = query(req, 'format') ?? 'json';
        if (format !== 'json' && format !== 'csv')
          throw new AppError('BAD_REQUEST', 'format must be json or csv', { path: '/query/format' });
        const report = await reviews.report(principalOf(req), idOf(req));
        if (format === 'csv')
          return {
            status: 200,
            headers: { 'content-type': 'text/csv; charset=utf-8; header=present' },
            body: accessReviewCsv(report),
          };
        return json(200, report);
      },
    },
  ];
}
