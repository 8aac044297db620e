/**
 * Roles in the admin API (`/v1/admin/roles…`, docs/access.md "Roles") and
 * the drift report (`GET /v1/admin/drift`). Every role change is recorded in
 * the `system` log by RoleService before it takes effect. Versions travel as
 * ETags, as for detection rules: a read answers `ETag: "<version>"`, a PUT
 * may send it back as `If-Match` (409 when the role moved on) or
 * `If-None-Match: *` (create only).
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { RoleChangeOptions, RoleService, RoleView } from '../../app/roles.ts';
import type { Route } from '../router.ts';
import type { HttpRequest, HttpResponse } from '../types.ts';
import { json } from '../types.ts';
import { jsonBody, principalOf } from './body.ts';

const VERSION_RE = /^(?:W\/)?"?([0-9]{1,10})"?$/;

function preconditions(req: HttpRequest): RoleChangeOptions {
  const match = req.headers['if-match'];
  const noneMatch = req.headers['if-none-match'];
  if (match !== undefined && noneMatch !== undefined)
    throw new AppError('BAD_REQUEST', 'give If-Match or If-None-Match, not both');
  if (noneMatch !== undefined) {
    if (noneMatch.trim() !== '*') throw new AppError('BAD_REQUEST', 'If-None-Match must be * (create only)');
    return { ifVersion: 0 };
  }
  if (match === undefined) return {};
  const m = VERSION_RE.exec(match.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new AppError('BAD_REQUEST', 'If-Match must be a role version, e.g. "3"');
  return { ifVersion: n };
}

function intParam(req: HttpRequest, name: string): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(raw))
    throw new AppError('BAD_REQUEST', `${name} must be a positive integer`, { path: `/query/${name}` });
  return Number(raw);
}

function page(req: HttpRequest): { cursor?: string; limit?: number } {
  const limit = intParam(req, 'limit');
  const cursor = req.query.cursor;
  return { ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) };
}

const roleId = (req: HttpRequest) => req.pathParams.id ?? '';
const etag = (v: RoleView) => ({ etag: `"${v.role.version}"` });

function changed(status: number, r: { view: RoleView; changed: boolean; created: boolean }): HttpResponse {
  return json(status, { ...r.view, changed: r.changed, created: r.created }, etag(r.view));
}

export function roleRoutes(deps: { roles: RoleService; principals: PrincipalService }): Route[] {
  const { roles, principals } = deps;
  return [
    {
      method: 'PUT',
      pattern: '/v1/admin/roles/{id}',
      auth: 'principal',
      async handle(req) {
        const actor = principalOf(req);
        const r = await roles.put(actor, roleId(req), jsonBody(req), {
          ...preconditions(req),
          requestId: req.requestId,
        });
        return changed(r.created ? 201 : 200, r);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/roles/{id}',
      auth: 'principal',
      async handle(req) {
        const version = intParam(req, 'version');
        const view = await roles.get(principalOf(req), roleId(req), version !== undefined ? { version } : {});
        return json(200, view, etag(view));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/roles',
      auth: 'principal',
      async handle(req) {
        return json(200, await roles.list(principalOf(req), page(req)));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/roles/{id}/history',
      auth: 'principal',
      async handle(req) {
        return json(200, await roles.history(principalOf(req), roleId(req), page(req)));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/admin/drift',
      auth: 'principal',
      async handle(req) {
        return json(200, await principals.drift(principalOf(req)));
      },
    },
  ];
}
