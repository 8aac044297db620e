/**
 * `/scim/v2/Users…` through the real router, on the admin path as deployed
 * (ScimService over PrincipalService, recording into the `system` log on one
 * moto table), driven with the request shapes Okta and Entra ID send. The
 * IdP holds only `scim:provision`. Checked: provisioning creates a human
 * principal with the IdP identity, recorded with the IdP as submitter;
 * deactivation revokes it before the answer (its key then gets 401);
 * hostile input gets RFC 7644 errors (status, scimType) and changes nothing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ScimService } from '../../src/app/scim.ts';
import type { Principal } from '../../src/core/principal.ts';
import { SCIM_ERROR_SCHEMA, SCIM_PATCH_SCHEMA, SCIM_USER_SCHEMA } from '../../src/core/scim.ts';
import { createRouter } from '../../src/http/router.ts';
import { scimRoutes } from '../../src/http/routes/scim.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import { type RulesOnMoto, rulesOnMoto } from '../app/rules-moto.ts';

let env: RulesOnMoto;
let idp: Principal;
let scim: ScimService;

beforeAll(async () => {
  env = await rulesOnMoto(`scim-${Date.now()}`);
  scim = new ScimService({ principals: env.principals });
  idp = (
    await env.principals.create(env.admin, {
      id: 'okta-scim',
      name: 'Okta provisioning',
      kind: 'application',
      owner: 'ops-admin',
      purpose: 'SCIM provisioning from Okta',
      scopes: { '*': ['scim:provision'] },
    })
  ).principal;
});

interface Call {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, string>;
  principal?: Principal;
  contentType?: string;
}

async function call(c: Call) {
  const body =
    c.body === undefined
      ? new Uint8Array(0)
      : c.body instanceof Uint8Array
        ? c.body
        : new TextEncoder().encode(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
  const req: HttpRequest = {
    method: c.method,
    path: c.path,
    headers: c.body !== undefined ? { 'content-type': c.contentType ?? 'application/scim+json' } : {},
    query: c.query ?? {},
    pathParams: {},
    body,
    principal: c.principal ?? idp,
    requestId: 'req-scim',
  };
  const res = await createRouter(scimRoutes({ scim }), { authenticate: async () => idp })(req);
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  return { ...res, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const USERS = '/scim/v2/Users';
const user = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [SCIM_USER_SCHEMA],
  userName,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Test User',
  externalId: '00ujl29u0le5T6Aj10h7',
  active: true,
  ...extra,
});

describe('SCIM Users', () => {
  it('Okta: create, filter by userName, get, deactivate (key 401), all recorded with the IdP as submitter', async () => {
    const created = await call({ method: 'POST', path: USERS, body: user('test.user@okta.local') });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
    const id = created.json.id as string;
    expect(created.json).toMatchObject({
      userName: 'test.user@okta.local',
      displayName: 'Test User',
      active: true,
    });
    const p = await env.principals.get(env.admin, id);
    expect(p).toMatchObject({
      kind: 'human',
      idpIdentity: 'test.user@okta.local',
      owner: 'okta-scim',
      scopes: {},
    });

    const dup = await call({ method: 'POST', path: USERS, body: user('TEST.user@okta.local') });
    expect([dup.status, dup.json.scimType, dup.json.schemas]).toEqual([
      409,
      'uniqueness',
      [SCIM_ERROR_SCHEMA],
    ]);

    const found = await call({
      method: 'GET',
      path: USERS,
      query: { filter: 'userName eq "test.user@okta.local"' },
    });
    expect(found.json).toMatchObject({
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
      Resources: [{ id }],
    });
    const none = await call({
      method: 'GET',
      path: USERS,
      query: { filter: 'userName eq "nobody@okta.local"' },
    });
    expect(none.json).toMatchObject({ totalResults: 0, Resources: [] });
    expect((await call({ method: 'GET', path: `${USERS}/${id}` })).json).toMatchObject({ id, active: true });

    // The key an admin issues works until the IdP deactivates the user.
    const { apiKey } = await env.principals.rotate(env.admin, id);
    expect((await env.principals.authenticate(apiKey)).id).toBe(id);
    const off = await call({
      method: 'PATCH',
      path: `${USERS}/${id}`,
      body: { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] },
    });
    expect([off.status, off.json.active]).toEqual([200, false]);
    await expect(env.principals.authenticate(apiKey)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const back = await call({
      method: 'PATCH',
      path: `${USERS}/${id}`,
      body: { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: true } }] },
    });
    expect([back.status, back.json.scimType]).toEqual([400, 'mutability']);

    const recs = (await env.records()).filter((r) => r.event.target?.id === id);
    expect(recs.map((r) => [r.event.action, r.submitter])).toEqual([
      ['principal.create', 'okta-scim'],
      ['principal.rotate', 'ops-admin'],
      ['principal.revoke', 'okta-scim'],
    ]);
  });

  it('Entra ID: "Replace" active "False", then DELETE; 204 and revoked', async () => {
    const created = await call({
      method: 'POST',
      path: USERS,
      contentType: 'application/json',
      body: {
        schemas: [SCIM_USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
        userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
        active: true,
        emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
        meta: { resourceType: 'User' },
        name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
        roles: [],
      },
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(created.json.displayName).toBe('givenName familyName');
    const off = await call({
      method: 'PATCH',
      path: `${USERS}/${id}`,
      body: { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] },
    });
    expect(off.json.active).toBe(false);
    const del = await call({ method: 'DELETE', path: `${USERS}/${id}` });
    expect(del.status).toBe(204);
    const p = await env.principals.get(env.admin, id);
    expect(p.status).toBe('revoked');
  });

  it('hostile input: RFC 7644 errors with status and scimType, nothing written', async () => {
    const { json } = await call({ method: 'POST', path: USERS, body: user('keeper@okta.local') });
    const id = json.id as string;
    const reader: Principal = {
      ...idp,
      id: 'reader-1',
      scopes: { acme: ['events:read'] },
      effectiveScopes: { acme: ['events:read'] },
    };
    const before = (await env.records()).length;
    const patch = (Operations: unknown) => ({ schemas: [SCIM_PATCH_SCHEMA], Operations });
    const cases: [Call, number, string | undefined][] = [
      [{ method: 'POST', path: USERS, body: '{"userName":' }, 400, 'invalidSyntax'],
      [{ method: 'POST', path: USERS, body: [] }, 400, 'invalidSyntax'],
      [{ method: 'POST', path: USERS, body: { userName: 'x@y' } }, 400, 'invalidSyntax'],
      [{ method: 'POST', path: USERS, body: user('') }, 400, 'invalidValue'],
      [{ method: 'POST', path: USERS, body: user('x'.repeat(300)) }, 400, 'invalidValue'],
      [{ method: 'POST', path: USERS, body: user('ok@x', { active: 'false' }) }, 400, 'invalidValue'],
      [{ method: 'POST', path: USERS, body: user('ok@x'), contentType: 'text/plain' }, 415, undefined],
      [{ method: 'GET', path: USERS, query: { filter: 'userName co "a"' } }, 400, 'invalidFilter'],
      [{ method: 'GET', path: USERS, query: { filter: 'userName eq "a" or 1 eq 1' } }, 400, 'invalidFilter'],
      [{ method: 'GET', path: USERS, query: { filter: ')(' } }, 400, 'invalidFilter'],
      [{ method: 'GET', path: USERS, query: { count: 'lots' } }, 400, 'invalidValue'],
      [{ method: 'GET', path: `${USERS}/ops-admin` }, 404, undefined],
      [{ method: 'GET', path: `${USERS}/P%23x` }, 404, undefined],
      [{ method: 'DELETE', path: `${USERS}/ops-admin` }, 404, undefined],
      [
        {
          method: 'PATCH',
          path: `${USERS}/${id}`,
          body: patch([{ op: 'replace', path: 'userName', value: 'eve' }]),
        },
        400,
        'mutability',
      ],
      [
        {
          method: 'PATCH',
          path: `${USERS}/${id}`,
          body: patch([
            { op: 'replace', path: 'active', value: false },
            { op: 'replace', value: { displayName: 'x' } },
          ]),
        },
        400,
        'mutability',
      ],
      [
        { method: 'PATCH', path: `${USERS}/${id}`, body: patch([{ op: 'remove', path: 'active' }]) },
        400,
        'mutability',
      ],
      [{ method: 'PATCH', path: `${USERS}/${id}`, body: patch([{ op: 'nuke' }]) }, 400, 'invalidSyntax'],
      [{ method: 'PATCH', path: `${USERS}/${id}`, body: patch([]) }, 400, 'invalidSyntax'],
      [{ method: 'PATCH', path: `${USERS}/${id}`, body: { Operations: [] } }, 400, 'invalidSyntax'],
      [{ method: 'POST', path: USERS, body: user('new@x'), principal: reader }, 403, undefined],
    ];
    for (const [c, status, scimType] of cases) {
      const r = await call(c);
      expect([c.method, c.path, r.status, r.json.scimType, r.json.schemas]).toEqual([
        c.method,
        c.path,
        status,
        scimType,
        [SCIM_ERROR_SCHEMA],
      ]);
      expect(r.json.status).toBe(String(status));
    }
    // Arbitrary bytes: a SCIM 4xx, never a 5xx, never a write.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, onPatch) => {
        const r = await call(
          onPatch
            ? { method: 'PATCH', path: `${USERS}/${id}`, body: bytes }
            : { method: 'POST', path: USERS, body: bytes },
        );
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.json.schemas).toEqual([SCIM_ERROR_SCHEMA]);
      }),
      { numRuns: 40 },
    );
    expect((await env.records()).length).toBe(before);
    expect((await call({ method: 'GET', path: `${USERS}/${id}` })).json.active).toBe(true);
  });
});
