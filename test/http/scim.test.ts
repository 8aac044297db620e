/**
 * `/scim/v2/…` through the real router, on the admin path as deployed
 * (ScimService over PrincipalService and RoleService, recording into the
 * `system` log on one moto table), driven with the request shapes Okta and
 * Entra ID send. The IdP holds only `scim:provision`. Checked: provisioning
 * creates a human principal with the IdP identity, recorded with the IdP as
 * submitter; deactivation revokes it before the answer (its key then gets
 * 401) and flags or revokes what it owns; groups are roles; hostile input
 * gets RFC 7644 errors (status, scimType) and changes nothing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ScimService } from '../../src/app/scim.ts';
import type { Principal } from '../../src/core/principal.ts';
import {
  SCIM_ENTERPRISE_SCHEMA,
  SCIM_ERROR_SCHEMA,
  SCIM_GROUP_SCHEMA,
  SCIM_PATCH_SCHEMA,
  SCIM_USER_SCHEMA,
} from '../../src/core/scim.ts';
import { createRouter } from '../../src/http/router.ts';
import { scimRoutes } from '../../src/http/routes/scim.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import { type RolesOnMoto, rolesOnMoto } from '../app/roles-moto.ts';

let env: RolesOnMoto;
let idp: Principal;
let scim: ScimService;

beforeAll(async () => {
  env = await rolesOnMoto(`scim-${Date.now()}`);
  scim = new ScimService({ principals: env.principals });
  const role = (description: string, scopes: Record<string, string[]>) => ({
    description,
    purpose: description,
    scopes,
  });
  await env.roles.put(env.admin, 'auditors', role('read every log', { '*': ['events:read', 'proofs:read'] }));
  await env.roles.put(
    env.admin,
    'tenant-writers',
    role('write tenant logs', { 'tenant-*': ['events:write'] }),
  );
  await env.roles.put(env.admin, 'platform-admins', role('administer', { '*': ['admin'] }));
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
  service?: ScimService;
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
  const res = await createRouter(scimRoutes({ scim: c.service ?? scim }), { authenticate: async () => idp })(
    req,
  );
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  return { ...res, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const USERS = '/scim/v2/Users';
const GROUPS = '/scim/v2/Groups';
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
    expect(p.idpDeletedAt).toBeDefined();
    // RFC 7644 §3.6: gone for the IdP (404), kept here for history.
    for (const method of ['GET', 'DELETE'])
      expect((await call({ method, path: `${USERS}/${id}` })).status).toBe(404);
    const listed = await call({
      method: 'GET',
      path: USERS,
      query: { filter: 'userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"' },
    });
    expect(listed.json.totalResults).toBe(0);
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
      [{ method: 'POST', path: USERS, body: user('ok@x', { active: 'yes' }) }, 400, 'invalidValue'],
      [{ method: 'POST', path: USERS, body: user('ok@x'), contentType: 'text/plain' }, 415, undefined],
      [{ method: 'GET', path: USERS, query: { filter: 'shoeSize gt 40' } }, 400, 'invalidFilter'],
      [{ method: 'GET', path: USERS, query: { filter: 'userName eq' } }, 400, 'invalidFilter'],
      [{ method: 'GET', path: GROUPS, query: { filter: 'members[value eq' } }, 400, 'invalidFilter'],
      [{ method: 'POST', path: USERS, body: user('ok@x', { shoeSize: 44 }) }, 400, 'invalidSyntax'],
      [{ method: 'POST', path: USERS, body: user('ok@x', { name: { nick: 'x' } }) }, 400, 'invalidSyntax'],
      [{ method: 'PUT', path: `${USERS}/${id}`, body: user('someone.else@okta.local') }, 400, 'mutability'],
      [
        {
          method: 'PATCH',
          path: `${USERS}/${id}`,
          body: patch([{ op: 'replace', path: 'id', value: 'p_x' }]),
        },
        400,
        'mutability',
      ],
      [
        { method: 'PATCH', path: `${USERS}/${id}`, body: patch([{ op: 'remove', path: 'meta' }]) },
        400,
        'mutability',
      ],
      [
        {
          method: 'PATCH',
          path: `${USERS}/${id}`,
          body: patch([{ op: 'add', path: 'favouriteColour', value: 'blue' }]),
        },
        400,
        'invalidPath',
      ],
      [
        { method: 'POST', path: GROUPS, body: { schemas: [SCIM_GROUP_SCHEMA], displayName: 'no-such-role' } },
        400,
        'invalidValue',
      ],
      [
        {
          method: 'POST',
          path: GROUPS,
          body: { schemas: [SCIM_GROUP_SCHEMA], displayName: 'platform-admins' },
        },
        400,
        'invalidValue',
      ],
      [{ method: 'GET', path: `${GROUPS}/platform-admins` }, 404, undefined],
      [
        {
          method: 'PATCH',
          path: `${GROUPS}/auditors`,
          body: patch([{ op: 'add', path: 'members', value: [{ value: id }, { value: 'ops-admin' }] }]),
        },
        400,
        'invalidValue',
      ],
      [
        {
          method: 'PATCH',
          path: `${GROUPS}/auditors`,
          body: patch([{ op: 'replace', path: 'displayName', value: 'tenant-writers' }]),
        },
        400,
        'mutability',
      ],
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
            { op: 'replace', value: { id: 'p_00000000000000000000000000000000' } },
          ]),
        },
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

  it('PUT and attribute PATCHes (Okta, Entra ID) keep the profile; filters and pages over it', async () => {
    const created = await call({
      method: 'POST',
      path: USERS,
      body: user('grace@okta.local', { title: 'Rear Admiral', displayName: 'Grace Hopper' }),
    });
    const id = created.json.id as string;
    // Okta: PUT the whole user.
    const put = await call({
      method: 'PUT',
      path: `${USERS}/${id}`,
      body: user('grace@okta.local', {
        id,
        displayName: 'Grace B. Hopper',
        title: 'Commodore',
        name: { givenName: 'Grace', familyName: 'Hopper' },
        emails: [{ value: 'grace@okta.local', type: 'work', primary: true }],
      }),
    });
    expect([put.status, put.json.displayName, put.json.title]).toEqual([200, 'Grace B. Hopper', 'Commodore']);
    // Entra ID: path forms, a value filter, the enterprise extension.
    const entra = await call({
      method: 'PATCH',
      path: `${USERS}/${id}`,
      body: {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [
          { op: 'Replace', path: 'name.givenName', value: 'Amazing Grace' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ghopper@okta.local' },
          { op: 'Add', path: `${SCIM_ENTERPRISE_SCHEMA}:department`, value: 'Navy' },
          { op: 'Remove', path: 'title' },
        ],
      },
    });
    expect(entra.status).toBe(200);
    expect(entra.json).toMatchObject({
      name: { givenName: 'Amazing Grace' },
      emails: [{ value: 'ghopper@okta.local', type: 'work' }],
      [SCIM_ENTERPRISE_SCHEMA]: { department: 'Navy' },
      active: true,
    });
    expect(entra.json.title).toBeUndefined();
    expect((await call({ method: 'GET', path: `${USERS}/${id}` })).json).toEqual(entra.json);
    const recs = (await env.records()).filter((r) => r.event.target?.id === id);
    expect(recs.map((r) => [r.event.action, r.submitter])).toEqual([
      ['principal.create', 'okta-scim'],
      ['principal.update', 'okta-scim'],
      ['principal.update', 'okta-scim'],
    ]);

    const q = async (filter: string, extra: Record<string, string> = {}) =>
      (await call({ method: 'GET', path: USERS, query: { filter, ...extra } })).json;
    expect((await q('emails[type eq "work"].value sw "ghopper"')).Resources).toEqual([entra.json]);
    expect((await q(`${SCIM_ENTERPRISE_SCHEMA}:department eq "navy" and active eq true`)).totalResults).toBe(
      1,
    );
    expect((await q('userName co "@okta.local" and not (userName sw "grace")')).totalResults).toBeGreaterThan(
      0,
    );
    expect((await q('title pr or name.givenName eq "amazing grace"')).totalResults).toBeGreaterThan(0);
    const all = await q('userName pr', { count: '999999999999' });
    expect(all.itemsPerPage).toBe(Math.min(100, all.totalResults as number));
    const second = await q('userName pr', { startIndex: '2', count: '1' });
    expect(second).toMatchObject({ startIndex: 2, itemsPerPage: 1 });
    expect((second.Resources as unknown[])[0]).toEqual((all.Resources as unknown[])[1]);
  });

  it('groups are roles: Okta and Entra ID membership shapes, each change one recorded roles update', async () => {
    const mk = async (u: string) =>
      (await call({ method: 'POST', path: USERS, body: user(u) })).json.id as string;
    const [a, b, c] = [await mk('g.a@okta.local'), await mk('g.b@okta.local'), await mk('g.c@okta.local')];
    // Discovery: only roles the IdP may give are groups.
    const groups = await call({ method: 'GET', path: GROUPS, query: { excludedAttributes: 'members' } });
    expect((groups.json.Resources as Array<{ id: string }>).map((g) => g.id)).toEqual([
      'auditors',
      'tenant-writers',
    ]);
    const found = await call({ method: 'GET', path: GROUPS, query: { filter: 'displayName eq "Auditors"' } });
    expect(found.json).toMatchObject({ totalResults: 1, Resources: [{ id: 'auditors' }] });
    // Okta: create the group (push) with members; the displayName names the role.
    const pushed = await call({
      method: 'POST',
      path: GROUPS,
      body: { schemas: [SCIM_GROUP_SCHEMA], displayName: 'Auditors', members: [{ value: a, display: 'a' }] },
    });
    expect([pushed.status, pushed.json.id, (pushed.json.members as unknown[]).length]).toEqual([
      201,
      'auditors',
      1,
    ]);
    // Entra ID: add, then remove with a value (its shape).
    const add = await call({
      method: 'PATCH',
      path: `${GROUPS}/auditors`,
      body: {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'Add', path: 'members', value: [{ value: b }, { value: c }] }],
      },
    });
    expect((add.json.members as Array<{ value: string }>).map((m) => m.value).sort()).toEqual(
      [a, b, c].sort(),
    );
    await call({
      method: 'PATCH',
      path: `${GROUPS}/auditors`,
      body: {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'Remove', path: 'members', value: [{ value: b }] }],
      },
    });
    // Okta: remove by a value filter path; rename to the same name with the id repeated.
    const okta = await call({
      method: 'PATCH',
      path: `${GROUPS}/auditors`,
      body: {
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [
          { op: 'remove', path: `members[value eq "${c}"]` },
          { op: 'replace', value: { id: 'auditors', displayName: 'auditors' } },
        ],
      },
    });
    expect((okta.json.members as Array<{ value: string }>).map((m) => m.value)).toEqual([a]);
    expect((await env.principals.get(env.admin, a)).roles).toEqual(['auditors']);
    // The role's grants reach the member at authentication.
    const { apiKey } = await env.principals.rotate(env.admin, a);
    expect((await env.principals.authenticate(apiKey)).effectiveScopes).toMatchObject({
      '*': ['events:read', 'proofs:read'],
    });
    // PUT replaces the membership; DELETE empties it (the role stays).
    const put = await call({
      method: 'PUT',
      path: `${GROUPS}/tenant-writers`,
      body: {
        schemas: [SCIM_GROUP_SCHEMA],
        displayName: 'tenant-writers',
        members: [{ value: b }, { value: c }],
      },
    });
    expect((put.json.members as unknown[]).length).toBe(2);
    expect((await call({ method: 'DELETE', path: `${GROUPS}/tenant-writers` })).status).toBe(204);
    expect((await call({ method: 'GET', path: `${GROUPS}/tenant-writers` })).json.members).toEqual([]);
    const recs = (await env.records()).filter((r) => [a, b, c].includes(r.event.target?.id ?? ''));
    const roleChanges = recs.filter((r) => r.event.action === 'principal.roles.update');
    expect(roleChanges.every((r) => r.submitter === 'okta-scim')).toBe(true);
    // a +auditors; b +auditors, -auditors, +tenant-writers, -tenant-writers; c alike.
    expect(roleChanges.length).toBe(9);
  });

  it('deprovisioning revokes the human and flags (default) or revokes (policy) what it owns, recorded', async () => {
    for (const policy of ['flag', 'disable'] as const) {
      const service = new ScimService({ principals: env.principals, ownedPrincipals: policy });
      const owner = (
        await call({ method: 'POST', path: USERS, body: user(`owner-${policy}@okta.local`), service })
      ).json.id as string;
      const agents: string[] = [];
      for (const kind of ['agent', 'application'] as const)
        agents.push(
          (
            await env.principals.create(env.admin, {
              name: `${kind} of ${owner}`,
              kind,
              owner,
              purpose: 'test',
              scopes: { acme: ['events:write'] },
            })
          ).principal.id,
        );
      const off = await call({
        method: policy === 'flag' ? 'PATCH' : 'DELETE',
        path: `${USERS}/${owner}`,
        service,
        ...(policy === 'flag'
          ? {
              body: {
                schemas: [SCIM_PATCH_SCHEMA],
                Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
              },
            }
          : {}),
      });
      expect(off.status).toBeLessThan(300);
      for (const id of agents) {
        const p = await env.principals.get(env.admin, id);
        if (policy === 'flag')
          expect([p.status, typeof p.ownerDeprovisionedAt]).toEqual(['active', 'string']);
        else expect(p.status).toBe('revoked');
      }
      const recs = (await env.records()).filter((r) => [owner, ...agents].includes(r.event.target?.id ?? ''));
      const byIdp = recs
        .filter((r) => r.submitter === 'okta-scim')
        .map((r) => [r.event.target?.id, r.event.action]);
      const expected = policy === 'flag' ? 'principal.flag' : 'principal.revoke';
      expect(byIdp).toEqual([
        [owner, 'principal.create'],
        [owner, 'principal.revoke'],
        ...[...agents].sort().map((id) => [id, expected]),
      ]);
      // Repeating the deprovisioning (an IdP retry) records nothing more.
      const before = (await env.records()).length;
      if (policy === 'flag')
        await call({
          method: 'PATCH',
          path: `${USERS}/${owner}`,
          service,
          body: { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] },
        });
      expect((await env.records()).length).toBe(before);
    }
  });

  it('discovery: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const spc = await call({ method: 'GET', path: '/scim/v2/ServiceProviderConfig' });
    expect(spc.json).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 100 },
    });
    const types = await call({ method: 'GET', path: '/scim/v2/ResourceTypes' });
    expect((types.json.Resources as Array<{ id: string }>).map((r) => r.id)).toEqual(['User', 'Group']);
    expect((await call({ method: 'GET', path: '/scim/v2/ResourceTypes/Group' })).json.endpoint).toBe(
      '/Groups',
    );
    const schemas = await call({ method: 'GET', path: '/scim/v2/Schemas' });
    expect(schemas.json.totalResults).toBe(3);
    const one = await call({ method: 'GET', path: `/scim/v2/Schemas/${SCIM_USER_SCHEMA}` });
    expect(one.json.id).toBe(SCIM_USER_SCHEMA);
    expect((await call({ method: 'GET', path: '/scim/v2/Schemas/urn:x' })).status).toBe(404);
  });
});
