/**
 * Admin API (`/v1/admin/…`): principals and logs. Every principal change is
 * recorded in the `system` log by PrincipalService; creating a log is
 * idempotent and recorded there first by LogAdminService.
 */
import { AppError } from '../../app/errors.ts';
import type { LogAdminService } from '../../app/log-admin.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { jsonBody, logIdOf, principalOf } from './body.ts';

function ifVersion(req: { headers: Record<string, string> }): { ifVersion?: number } {
  const raw = req.headers['if-match'];
  if (raw === undefined) return {};
  const n = Number(raw.replace(/"/g, ''));
  if (!Number.isSafeInteger(n) || n < 0)
    throw new AppError('BAD_REQUEST', 'If-Match must be a principal version');
  return { ifVersion: n };
}

export function adminRoutes(deps: { principals: PrincipalService; logAdmin: LogAdminService }): Route[] {
  const { principals } = deps;
  return [
    {
      method: 'POST',
      pattern: '/v1/admin/principals',
      auth: 'principal',
      async handle(req) {
        const r = await principals.create(principalOf(req), jsonBody(req), { requestId: req.requestId });
        return json(201, r);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/principals',
      auth: 'principal',
      async handle(req) {
        const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
        const r = await principals.listWithAccess(principalOf(req), {
          ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        return json(200, r);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/principals/{id}',
      auth: 'principal',
      async handle(req) {
        return json(200, await principals.describe(principalOf(req), req.pathParams.id ?? ''));
      },
    },
    {
      method: 'PATCH',
      pattern: '/v1/admin/principals/{id}',
      auth: 'principal',
      async handle(req) {
        const p = await principals.update(principalOf(req), req.pathParams.id ?? '', jsonBody(req), {
          ...ifVersion(req),
          requestId: req.requestId,
        });
        return json(200, { principal: p });
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/principals/{id}/rotate',
      auth: 'principal',
      async handle(req) {
        const r = await principals.rotate(principalOf(req), req.pathParams.id ?? '', {
          ...ifVersion(req),
          requestId: req.requestId,
        });
        return json(200, r);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/principals/{id}/revoke',
      auth: 'principal',
      async handle(req) {
        const p = await principals.revoke(principalOf(req), req.pathParams.id ?? '', {
          ...ifVersion(req),
          requestId: req.requestId,
        });
        return json(200, { principal: p });
      },
    },
    {
      method: 'PUT',
      pattern: '/v1/admin/logs/{logId}',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        const r = await deps.logAdmin.createLog(principalOf(req), logId, { requestId: req.requestId });
        return json(r.created ? 201 : 200, { logId, created: r.created });
      },
    },
  ];
}
