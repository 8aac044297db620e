/**
 * SCIM 2.0 (`/scim/v2/Users…`, `/Groups…`, `/ServiceProviderConfig`,
 * `/ResourceTypes`, `/Schemas`; docs/access.md "SCIM"; RFC 7644), for an
 * identity provider holding `scim:provision`. Bodies are `application/scim+json`
 * (or `application/json`); every error the handler raises is an RFC 7644 §3.12
 * error body with `status` and, for 400/409, `scimType` — never the anchorlog
 * error shape, which IdPs do not read. (A missing or bad bearer token is
 * refused before the handler, by the router or API Gateway's authorizer.)
 */
import { AppError } from '../../app/errors.ts';
import type { ScimService } from '../../app/scim.ts';
import { parseJson } from '../../core/ijson.ts';
import { ScimError, scimErrorBody } from '../../core/scim.ts';
import type { Route } from '../router.ts';
import type { HttpRequest, HttpResponse } from '../types.ts';
import { principalOf } from './body.ts';

const BASE = '/scim/v2';
const USERS = `${BASE}/Users`;
const GROUPS = `${BASE}/Groups`;
const CONTENT_TYPE = 'application/scim+json; charset=utf-8';

function scim(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(value) };
}

const STATUS: Partial<Record<AppError['code'], number>> = {
  BAD_REQUEST: 400,
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
};

/** Any failure as a SCIM error; 5xx details stay generic (no internals to the IdP). */
function scimFailure(err: unknown): HttpResponse {
  if (err instanceof ScimError) return scim(err.status, scimErrorBody(err));
  if (err instanceof AppError) {
    const status = STATUS[err.code] ?? 500;
    const scimType = err.code === 'BAD_REQUEST' ? 'invalidValue' : undefined;
    const res = scim(
      status,
      scimErrorBody(new ScimError(status, scimType, status >= 500 ? 'internal error' : err.message)),
    );
    if (err.retryAfterSeconds !== undefined)
      res.headers = { ...res.headers, 'retry-after': String(err.retryAfterSeconds) };
    return res;
  }
  return scim(500, scimErrorBody(new ScimError(500, undefined, 'internal error')));
}

/** A JSON body under a SCIM or JSON content type; anything else is a SCIM error. */
function body(req: HttpRequest): unknown {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/scim+json' && type !== 'application/json')
    throw new ScimError(415, undefined, 'content-type must be application/scim+json');
  try {
    return parseJson(req.body);
  } catch (err) {
    throw new ScimError(400, 'invalidSyntax', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

const idOf = (req: HttpRequest) => req.pathParams.id ?? '';

export function scimRoutes(deps: { scim: ScimService }): Route[] {
  const { scim: service } = deps;
  const guarded =
    (fn: (req: HttpRequest) => Promise<HttpResponse>) =>
    async (req: HttpRequest): Promise<HttpResponse> => {
      try {
        return await fn(req);
      } catch (err) {
        return scimFailure(err);
      }
    };
  const query = (req: HttpRequest) => ({
    filter: req.query.filter,
    startIndex: req.query.startIndex,
    count: req.query.count,
    excludedAttributes: req.query.excludedAttributes,
  });
  const opts = (req: HttpRequest) => ({ requestId: req.requestId });
  const route = (
    method: Route['method'],
    pattern: string,
    fn: (req: HttpRequest) => Promise<HttpResponse> | HttpResponse,
  ): Route => ({ method, pattern, auth: 'principal', handle: guarded(async (req) => fn(req)) });
  const noContent = { status: 204, headers: {}, body: '' };
  return [
    route('POST', USERS, async (req) =>
      scim(201, await service.create(principalOf(req), body(req), opts(req))),
    ),
    route('GET', USERS, async (req) => scim(200, await service.list(principalOf(req), query(req)))),
    route('GET', `${USERS}/{id}`, async (req) => scim(200, await service.get(principalOf(req), idOf(req)))),
    route('PUT', `${USERS}/{id}`, async (req) =>
      scim(200, await service.replace(principalOf(req), idOf(req), body(req), opts(req))),
    ),
    route('PATCH', `${USERS}/{id}`, async (req) =>
      scim(200, await service.patch(principalOf(req), idOf(req), body(req), opts(req))),
    ),
    route('DELETE', `${USERS}/{id}`, async (req) => {
      await service.delete(principalOf(req), idOf(req), opts(req));
      return noContent;
    }),
    route('POST', GROUPS, async (req) =>
      scim(201, await service.createGroup(principalOf(req), body(req), opts(req))),
    ),
    route('GET', GROUPS, async (req) => scim(200, await service.listGroups(principalOf(req), query(req)))),
    route('GET', `${GROUPS}/{id}`, async (req) =>
      scim(200, await service.getGroup(principalOf(req), idOf(req), query(req))),
    ),
    route('PUT', `${GROUPS}/{id}`, async (req) =>
      scim(200, await service.replaceGroup(principalOf(req), idOf(req), body(req), opts(req))),
    ),
    route('PATCH', `${GROUPS}/{id}`, async (req) =>
      scim(200, await service.patchGroup(principalOf(req), idOf(req), body(req), opts(req))),
    ),
    route('DELETE', `${GROUPS}/{id}`, async (req) => {
      await service.deleteGroup(principalOf(req), idOf(req), opts(req));
      return noContent;
    }),
    route('GET', `${BASE}/ServiceProviderConfig`, (req) =>
      scim(200, service.serviceProviderConfig(principalOf(req))),
    ),
    route('GET', `${BASE}/ResourceTypes`, (req) => scim(200, service.resourceTypes(principalOf(req)))),
    route('GET', `${BASE}/ResourceTypes/{id}`, (req) =>
      scim(200, service.resourceTypes(principalOf(req), idOf(req))),
    ),
    route('GET', `${BASE}/Schemas`, (req) => scim(200, service.schemas(principalOf(req)))),
    route('GET', `${BASE}/Schemas/{id}`, (req) => scim(200, service.schemas(principalOf(req), idOf(req)))),
  ];
}
