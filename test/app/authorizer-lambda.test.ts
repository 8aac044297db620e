// lambdas/authorizer.ts as API Gateway invokes it, on moto, with the
// deployed configuration path (createServices(loadConfig())): the principal
// it passes on carries the effective scopes of its roles; an expired key is
// passed on as a refusal that the route function answers 401 KEY_EXPIRED
// (not API Gateway's bare 403); a wrong key is denied; the first request
// records the principal's last use.
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../../src/compose/principals.ts';
import { hasScope, type Principal } from '../../src/core/principal.ts';
import { type ApiEvent, fromApiGateway } from '../../src/http/lambda-adapter.ts';
import { createRouter } from '../../src/http/router.ts';
import { motoEndpoint } from '../support/aws.ts';
import { type RolesOnMoto, rolesOnMoto } from './roles-moto.ts';

const DAY = 86_400_000;
let env: RolesOnMoto;
let handler: typeof import('../../lambdas/authorizer.ts')['handler'];
let appKey: string;
let agentKey: string;

beforeAll(async () => {
  // Everything made 60 days ago: the application (365 days) is valid, the agent (30 here) expired.
  env = await rolesOnMoto('authorizer-lambda', { startMs: Date.now() - 60 * DAY });
  await env.roles.put(env.admin, 'tenant-writer', {
    description: 'writes tenant events',
    purpose: 'ingest',
    scopes: { 'tenant-*': ['events:write'] },
  });
  const base = { kind: 'application', owner: 'ops-admin', purpose: 'p', roles: ['tenant-writer'] };
  appKey = (await env.principals.create(env.admin, { ...base, id: 'ingest-app', name: 'ingest' })).apiKey;
  agentKey = (await env.principals.create(env.admin, { ...base, id: 'old-agent', name: 'a', kind: 'agent' }))
    .apiKey;
  Object.assign(process.env, {
    ANCHORLOG_TABLE: env.table,
    ANCHORLOG_ARCHIVE_BUCKET: 'anchorlog-archive-authorizer',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    ANCHORLOG_ROTATION_DAYS_AGENT: '30',
    // Keys issued before this date age from it (docs/access.md "Key expiry"); ours are later.
    ANCHORLOG_ROTATION_COUNT_FROM: new Date(Date.now() - 90 * DAY).toISOString().slice(0, 10),
  });
  ({ handler } = await import('../../lambdas/authorizer.ts'));
});

const event = (key: string) =>
  ({
    headers: { authorization: `Bearer ${key}` },
    requestContext: { requestId: 'req-auth' },
  }) as unknown as APIGatewayRequestAuthorizerEventV2;

describe('lambdas/authorizer handler', () => {
  it('passes on the principal with the effective scopes of its roles, and records its last use', async () => {
    const r = await handler(event(appKey));
    expect(r.isAuthorized).toBe(true);
    const p = JSON.parse(r.context.principal ?? '{}') as Principal;
    expect(p.effectiveScopes).toEqual({ 'tenant-*': ['events:write'] });
    expect(hasScope(p, 'tenant-eu', 'events:write')).toBe(true);
    expect(r.context.refused).toBeUndefined();
    expect((await env.principalStore.lastUsed(['ingest-app'])).get('ingest-app')).toBeDefined();
  });

  it('an expired key goes on as a refusal the route function answers 401 KEY_EXPIRED', async () => {
    const r = await handler(event(agentKey));
    expect(r.isAuthorized).toBe(true);
    expect(r.context.principal).toBeUndefined();
    const routeEvent = {
      headers: {},
      rawPath: '/v1/admin/roles',
      requestContext: { requestId: 'r', http: { method: 'GET' }, authorizer: { lambda: r.context } },
    } as unknown as ApiEvent;
    const res = await createRouter(
      adminApi({
        principals: env.principals,
        logAdmin: undefined as never,
        rules: undefined as never,
        alerts: undefined as never,
        roles: env.roles,
      }),
      {
        authenticate: async () => {
          throw new Error('a route function never authenticates again');
        },
      },
    )(fromApiGateway(routeEvent));
    expect(res.status).toBe(401);
    const body = JSON.parse(String(res.body)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('KEY_EXPIRED');
    expect(body.error.message).toMatch(/expired at/);
  });

  it('a wrong key is denied outright', async () => {
    const r = await handler(event(`${appKey.slice(0, -4)}AAAA`));
    expect(r).toEqual({ isAuthorized: false, context: {} });
  });
});
