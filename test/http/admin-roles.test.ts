/**
 * `/v1/admin/roles…`, `/v1/admin/drift` and the principal routes' new
 * fields through the real router, on the in-memory admin path
 * (../app/roles-support.ts). Client input — garbage bodies included — is
 * answered 4xx with a stable code, never 5xx, and nothing is written or
 * recorded for it. An expired key is 401 KEY_EXPIRED, locally and behind the
 * Lambda authorizer (which passes the refusal on; src/http/lambda-adapter.ts).
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { apiKeyFromHeaders } from '../../src/app/principals.ts';
import { adminApi } from '../../src/compose/principals.ts';
import { type ApiEvent, fromApiGateway } from '../../src/http/lambda-adapter.ts';
import { createRouter } from '../../src/http/router.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { type RolesEnv, rolesEnv } from '../app/roles-support.ts';

let env: RolesEnv;
let dispatch: (req: HttpRequest) => Promise<HttpResponse>;

beforeEach(async () => {
  env = await rolesEnv();
  dispatch = createRouter(
    adminApi({
      principals: env.access,
      logAdmin: env.logAdmin,
      rules: undefined as never,
      alerts: undefined as never,
      roles: env.roles,
    }),
    { authenticate: (req) => env.access.authenticate(apiKeyFromHeaders(req.headers)) },
  );
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  key?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const bytes =
    body === undefined
      ? new Uint8Array(0)
      : body instanceof Uint8Array
        ? body
        : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  const res = await dispatch({
    method,
    path,
    headers: {
      authorization: `Bearer ${key ?? env.adminKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    query: {},
    pathParams: {},
    body: bytes,
    requestId: 'req-roles',
  });
  return { status: res.status, json: JSON.parse(String(res.body)) as Record<string, unknown> };
}

const role = {
  description: 'writes tenant events',
  purpose: 'ingest for tenants',
  scopes: { 'tenant-*': ['events:write'] },
};

describe('roles over HTTP', () => {
  it('PUT creates (201, ETag) and changes (200); If-Match / If-None-Match; GET, list, history', async () => {
    const created = await call('PUT', '/v1/admin/roles/tenant-writer', role, { 'if-none-match': '*' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      created: true,
      changed: true,
      role: { id: 'tenant-writer', version: 1 },
    });
    expect((await call('PUT', '/v1/admin/roles/tenant-writer', role, { 'if-none-match': '*' })).status).toBe(
      409,
    );
    const stale = await call(
      'PUT',
      '/v1/admin/roles/tenant-writer',
      { ...role, purpose: 'x' },
      { 'if-match': '"7"' },
    );
    expect([stale.status, (stale.json.error as { code: string }).code]).toEqual([409, 'CONFLICT']);
    const upd = await call(
      'PUT',
      '/v1/admin/roles/tenant-writer',
      { ...role, purpose: 'x' },
      { 'if-match': '"1"' },
    );
    expect(upd.status).toBe(200);
    expect((await call('GET', '/v1/admin/roles/tenant-writer')).json).toMatchObject({ role: { version: 2 } });
    expect(((await call('GET', '/v1/admin/roles')).json.roles as unknown[]).length).toBe(1);
    expect(
      ((await call('GET', '/v1/admin/roles/tenant-writer/history')).json.versions as unknown[]).length,
    ).toBe(2);
    expect((await call('GET', '/v1/admin/roles/none-such')).status).toBe(404);
  });

  it('garbage bodies and headers are 4xx with a code, never 5xx, and record nothing', async () => {
    const before = (await env.records()).length;
    const bodies = fc.oneof(
      fc.jsonValue(),
      fc.record({ description: fc.jsonValue(), purpose: fc.jsonValue(), scopes: fc.jsonValue() }),
      fc.record({
        description: fc.string(),
        purpose: fc.string(),
        scopes: fc.dictionary(fc.string(), fc.array(fc.string())),
      }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (b) => {
        const r = await call('PUT', '/v1/admin/roles/fuzzed', b);
        if (r.status < 300) return; // a body that happens to be a valid role
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(typeof (r.json.error as { code?: unknown }).code).toBe('string');
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.jsonValue(), async (raw, j) => {
        for (const [m, p, b] of [
          ['PUT', '/v1/admin/roles/fuzzed-raw', raw],
          ['POST', '/v1/admin/principals', raw],
          ['POST', '/v1/admin/principals', j],
          ['PATCH', '/v1/admin/principals/ops-admin', j],
        ] as const) {
          const r = await call(m, p, b);
          if (r.status < 300) continue;
          expect(r.status, `${m} ${p}`).toBeGreaterThanOrEqual(400);
          expect(r.status, `${m} ${p}`).toBeLessThan(500);
        }
      }),
      { numRuns: 100 },
    );
    for (const [headers, code] of [
      [{ 'if-match': 'abc' }, 'BAD_REQUEST'],
      [{ 'if-none-match': 'x' }, 'BAD_REQUEST'],
      [{ 'if-match': '"1"', 'if-none-match': '*' }, 'BAD_REQUEST'],
      [{ 'content-type': 'text/plain' }, 'UNSUPPORTED_MEDIA_TYPE'],
    ] as const) {
      const r = await call('PUT', '/v1/admin/roles/hdr', role, headers);
      expect((r.json.error as { code: string }).code).toBe(code);
    }
    const bad = await call('PUT', '/v1/admin/roles/x', { ...role, scopes: { 'Tenant A': ['events:read'] } });
    expect(bad.json.error).toMatchObject({
      code: 'BAD_REQUEST',
      path: '/scopes/Tenant A',
      reason: 'INVALID_ROLE_INPUT',
    });
    // A refused request writes and records nothing: the same bad bodies again leave the log as it is.
    const settled = (await env.records()).length;
    for (const b of [null, [], 'x', { description: 1 }, { ...role, scopes: { system: ['events:write'] } }])
      expect((await call('PUT', '/v1/admin/roles/refused', b)).status).toBe(400);
    expect((await env.records()).length).toBe(settled);
    await expect(env.roles.get(env.admin, 'refused')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(settled).toBeGreaterThanOrEqual(before);
  });

  it('principal routes: roles, owner and idpIdentity validated with codes; GET carries the access view; drift', async () => {
    await call('PUT', '/v1/admin/roles/tenant-writer', role);
    const noOwner = await call('POST', '/v1/admin/principals', {
      name: 'a',
      kind: 'agent',
      owner: 'ghost',
      purpose: 'p',
      roles: ['tenant-writer'],
    });
    expect(noOwner.json.error).toMatchObject({
      code: 'BAD_REQUEST',
      path: '/owner',
      reason: 'OWNER_NOT_ACTIVE_HUMAN',
    });
    const noRole = await call('POST', '/v1/admin/principals', {
      name: 'a',
      kind: 'agent',
      owner: 'ops-admin',
      purpose: 'p',
      roles: ['ghost-role'],
    });
    expect(noRole.json.error).toMatchObject({
      code: 'BAD_REQUEST',
      path: '/roles/0',
      reason: 'UNKNOWN_ROLE',
    });
    const ok = await call('POST', '/v1/admin/principals', {
      id: 'agent-1',
      name: 'a',
      kind: 'agent',
      owner: 'ops-admin',
      purpose: 'p',
      roles: ['tenant-writer'],
    });
    expect(ok.status).toBe(201);
    const got = await call('GET', '/v1/admin/principals/agent-1');
    expect(got.json).toMatchObject({
      principal: { roles: ['tenant-writer'], scopes: {} },
      access: { effectiveScopes: { 'tenant-*': ['events:write'] }, directScopes: false, keyExpired: false },
    });
    const list = await call('GET', '/v1/admin/principals');
    expect((list.json.access as Record<string, unknown>)['agent-1']).toBeDefined();
    const drift = await call('GET', '/v1/admin/drift');
    const ids = (drift.json.findings as { principalId: string }[]).map((f) => f.principalId);
    expect(ids).toEqual(['ops-admin']); // the bootstrap admin's direct admin on *; agent-1 is role-only
  });
});

describe('expired keys: 401 KEY_EXPIRED', () => {
  it('on the local router, and behind the Lambda authorizer', async () => {
    env.clock.t = env.clock.now() + 91 * 86_400_000; // past the human maximum (90 days)
    const r = await call('GET', '/v1/admin/roles');
    expect(r.status).toBe(401);
    expect(r.json.error).toMatchObject({ code: 'KEY_EXPIRED' });
    expect((r.json.error as { message: string }).message).toMatch(/expired at/);
    // As deployed: the authorizer passes the refusal on; the router answers before any route runs.
    const event = {
      headers: {},
      rawPath: '/v1/admin/roles',
      requestContext: {
        requestId: 'r',
        http: { method: 'GET' },
        authorizer: {
          lambda: { refused: JSON.stringify({ code: 'KEY_EXPIRED', message: 'API key expired at …' }) },
        },
      },
    } as unknown as ApiEvent;
    const refused = await createRouter(
      adminApi({
        principals: env.access,
        logAdmin: env.logAdmin,
        rules: undefined as never,
        alerts: undefined as never,
        roles: env.roles,
      }),
      {
        authenticate: async () => {
          throw new Error('must not authenticate again');
        },
      },
    )(fromApiGateway(event));
    expect(refused.status).toBe(401);
    expect(JSON.parse(String(refused.body)).error.code).toBe('KEY_EXPIRED');
    // A refusal context we cannot read still refuses.
    const garbled = fromApiGateway({
      ...event,
      requestContext: { ...event.requestContext, authorizer: { lambda: { refused: '{not json' } } },
    } as ApiEvent);
    expect(garbled.refused?.code).toBe('KEY_EXPIRED');
    expect(garbled.principal).toBeUndefined();
  });
});
