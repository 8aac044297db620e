/**
 * The admin plane (docs/deploy.md "Admin plane") on one moto table: the
 * bootstrap admin's key is break-glass — every use is recorded in the
 * `system` log (`principal.break_glass.use`, outcome `denied` while
 * disabled, `success` when enabled) before any answer, and the starter rule
 * `anchorlog.admin.break-glass-used` raises a critical alert on each record;
 * a disabled use is refused (401). Humans otherwise reach the admin API
 * through IAM: their assumed-role session maps to the SCIM-provisioned
 * human, and with `adminHumansViaIam` a human's API key is refused there.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  breakGlassGuard,
  breakGlassOutsideAdmin,
  requireMfaForHumans,
} from '../../src/compose/principals.ts';
import { loadRule } from '../../src/core/detect/compile.ts';
import { scimUserId } from '../../src/core/scim.ts';
import { type ApiEvent, fromApiGateway } from '../../src/http/lambda-adapter.ts';
import { createRouter, type Route } from '../../src/http/router.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import { evaluate } from '../core/detect/support.ts';
import { type RolesOnMoto, rolesOnMoto } from './roles-moto.ts';

let env: RolesOnMoto;
const ping: Route = {
  method: 'GET',
  pattern: '/v1/admin/ping',
  auth: 'principal',
  handle: async () => ({ status: 200, headers: {}, body: '' }),
};
/** One admin request as the admin function runs it: authenticated by key, then the guards. */
async function adminCall(routes: Route[], key: string, iamCaller?: string) {
  const req: HttpRequest = {
    method: 'GET',
    path: '/v1/admin/ping',
    headers: { authorization: `Bearer ${key}` },
    query: {},
    pathParams: {},
    body: new Uint8Array(0),
    requestId: 'req-bg',
    ...(iamCaller ? { iamCaller } : {}),
  };
  const authenticate = async (r: HttpRequest) => env.principals.authenticate(r.headers.authorization);
  return (await createRouter(routes, { authenticate })(req)).status;
}

beforeAll(async () => {
  env = await rolesOnMoto(`break-glass-${Date.now()}`);
});

describe('break-glass', () => {
  it('every use is recorded before the answer; refused while disabled; the rule alerts on each', async () => {
    const uses = async () =>
      (await env.records()).filter((r) => r.event.action === 'principal.break_glass.use');
    const guarded = (enabled: boolean) =>
      breakGlassGuard([ping], env.principals, { principalId: 'ops-admin', enabled });
    expect(await adminCall(guarded(false), env.adminKey)).toBe(401);
    expect((await uses()).map((r) => [r.event.outcome, r.submitter, r.event.target?.id])).toEqual([
      ['denied', 'ops-admin', 'ops-admin'],
    ]);
    expect(await adminCall(guarded(true), env.adminKey)).toBe(200);
    // A wrong secret for the same id records nothing (only the key's holder can cause a record).
    expect(await adminCall(guarded(true), `${env.adminKey.slice(0, -4)}AAAA`)).toBe(401);
    const recorded = await uses();
    expect(
      recorded.map((r) => [r.event.outcome, r.event.metadata?.route, r.event.context?.requestId]),
    ).toEqual([
      ['denied', 'GET /v1/admin/ping', 'req-bg'],
      ['success', 'GET /v1/admin/ping', 'req-bg'],
    ]);
    // Without the setting (the local stack) the key is an ordinary admin key.
    expect(breakGlassGuard([ping], env.principals, undefined)).toEqual([ping]);
    // Other principals' keys are not break-glass.
    const { apiKey } = await env.principals.create(env.admin, {
      name: 'ci',
      kind: 'application',
      owner: 'ops-admin',
      purpose: 'deploys',
      scopes: { acme: ['events:write'] },
    });
    expect(await adminCall(guarded(false), apiKey)).toBe(200); // not break-glass: let through, unrecorded
    expect((await uses()).length).toBe(2);

    // The starter rule over the records as recorded: one critical alert per use.
    const rule = loadRule(
      readFileSync(new URL('../../rules/anchorlog/anchorlog.admin.break-glass-used.json', import.meta.url)),
    );
    const all = await env.records();
    const { alerts } = await evaluate(
      [rule],
      all.map((record) => ({ kind: 'record' as const, record })),
      { logId: 'system' },
    );
    expect(alerts.map((a) => [a.rule.id, a.rule.severity])).toEqual([
      ['anchorlog.admin.break-glass-used', 'critical'],
      ['anchorlog.admin.break-glass-used', 'critical'],
    ]);
  });

  it('the IAM path: an assumed-role session is the SCIM human of that userName; nothing else', async () => {
    const idp = env.admin;
    const human = await env.principals.provisionHuman(idp, {
      id: scimUserId('Alice@example.com'),
      name: 'Alice',
      idpIdentity: 'Alice@example.com',
    });
    const arn = (session: string) => `arn:aws:sts::123456789012:assumed-role/AnchorlogAdmin/${session}`;
    expect((await env.principals.authenticateIamSession(arn('alice@example.com'))).id).toBe(human.id);
    for (const bad of [
      arn('bob@example.com'),
      arn('ops-admin'),
      'arn:aws:iam::123456789012:user/alice@example.com',
      `${arn('alice@example.com')}/extra`,
      '',
      undefined,
    ])
      await expect(env.principals.authenticateIamSession(bad)).rejects.toMatchObject({
        reason: 'iam_unknown',
      });
    await env.principals.revoke(env.admin, human.id);
    await expect(env.principals.authenticateIamSession(arn('alice@example.com'))).rejects.toMatchObject({
      reason: 'iam_unknown',
    });
  });

  it('the Lambda adapter carries the SigV4 caller from the IAM authorizer only, never from a header', () => {
    const event = (authorizer: unknown, headers: Record<string, string> = {}) =>
      ({
        headers,
        rawPath: '/v1/admin/roles',
        requestContext: { requestId: 'r', http: { method: 'GET' }, authorizer },
      }) as unknown as ApiEvent;
    const arn = 'arn:aws:sts::123456789012:assumed-role/AnchorlogAdmin/alice@example.com';
    expect(fromApiGateway(event({ iam: { userArn: arn } })).iamCaller).toBe(arn);
    expect(
      fromApiGateway(event(undefined, { 'x-iam-caller': arn, iamcaller: arn })).iamCaller,
    ).toBeUndefined();
    const viaKey = fromApiGateway(
      event({ lambda: { principal: JSON.stringify(env.admin) }, iam: { userArn: arn } }),
    );
    expect([viaKey.iamCaller, viaKey.principal?.id]).toEqual([undefined, 'ops-admin']);
  });

  it('adminHumansViaIam: a human key is refused on the admin API; IAM callers, apps and break-glass pass', async () => {
    const ok = ping;
    const routes = requireMfaForHumans([ok], {
      adminHumansViaIam: true,
      breakGlass: { principalId: 'ops-admin' },
    });
    const { principal: human } = await env.principals.create(env.admin, {
      name: 'Bob',
      kind: 'human',
      owner: 'secops',
      purpose: 'operator',
      scopes: { '*': ['admin'] },
    });
    const { principal: app } = await env.principals.create(env.admin, {
      name: 'automation',
      kind: 'application',
      owner: 'ops-admin',
      purpose: 'automation',
      scopes: { '*': ['admin'] },
    });
    const status = async (principal: typeof human, iamCaller?: string) => {
      const req: HttpRequest = {
        method: 'GET',
        path: '/v1/admin/ping',
        headers: {},
        query: {},
        pathParams: {},
        body: new Uint8Array(0),
        principal,
        requestId: 'r',
        ...(iamCaller ? { iamCaller } : {}),
      };
      return (await createRouter(routes, { authenticate: async () => principal })(req)).status;
    };
    expect(await status(human)).toBe(403);
    expect(await status(human, 'arn:aws:sts::123456789012:assumed-role/AnchorlogAdmin/bob')).toBe(200);
    expect(await status(app)).toBe(200);
    expect(await status(env.admin)).toBe(200); // ops-admin: the break-glass key (recorded by authenticate)
    expect(requireMfaForHumans([ok], { adminHumansViaIam: false })).toEqual([ok]);
    // The authorizer keeps the break-glass key to the admin API, where the guard records it.
    const bg = { principalId: 'ops-admin' };
    expect(breakGlassOutsideAdmin('ops-admin', 'GET /v1/admin/principals', bg)).toBe(false);
    expect(breakGlassOutsideAdmin('ops-admin', 'GET /v1/logs/{logId}/events', bg)).toBe(true);
    expect(breakGlassOutsideAdmin('ops-admin', 'POST /scim/v2/Users', bg)).toBe(true);
    expect(breakGlassOutsideAdmin('ops-admin', undefined, bg)).toBe(true);
    expect(breakGlassOutsideAdmin('ci', 'GET /v1/logs/{logId}/events', bg)).toBe(false);
    expect(breakGlassOutsideAdmin('ops-admin', 'GET /v1/logs/{logId}/events', undefined)).toBe(false);
  });
});
