/**
 * SCIM over real HTTP on the local stack (docs/access.md "SCIM"): an identity
 * provider principal holding only `scim:provision` provisions a user, finds
 * it by userName and deactivates it; the key an admin issued the user answers
 * 401 right after; the system log holds both changes with the IdP as
 * submitter; the IdP's key can do nothing else (403 on the admin API).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_GROUP_SCHEMA, SCIM_PATCH_SCHEMA, SCIM_USER_SCHEMA } from '../../src/core/scim.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from './helpers.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('SCIM on the local stack', () => {
  it('provision, filter, deactivate over HTTP; the user’s key is refused at once', async () => {
    const admin = await stack.services.principals.authenticate(stack.info.adminKey);
    const { apiKey: idpKey } = await stack.services.principals.create(admin, {
      id: 'entra-scim',
      name: 'Entra ID provisioning',
      kind: 'application',
      owner: admin.id,
      purpose: 'SCIM provisioning',
      scopes: { '*': ['scim:provision'] },
    });
    const scim = (method: string, path: string, body?: unknown, key = idpKey) =>
      fetch(`${stack.info.apiUrl}/scim/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() }));

    const created = await scim('POST', '/Users', {
      schemas: [SCIM_USER_SCHEMA],
      userName: 'dana@example.com',
      name: { givenName: 'Dana', familyName: 'Scully' },
      active: true,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.type).toMatch(/^application\/scim\+json/);
    const id = JSON.parse(created.text).id as string;
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "DANA@example.com"')}`);
    expect(JSON.parse(found.text)).toMatchObject({
      totalResults: 1,
      Resources: [{ id, displayName: 'Dana Scully' }],
    });
    const sw = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName sw "DANA" and active eq true')}`,
    );
    expect(JSON.parse(sw.text)).toMatchObject({ totalResults: 1, Resources: [{ id }] });
    // Hostile input over the wire: SCIM errors, nothing changed.
    const hostile: Array<[string, string, unknown, number, string | undefined]> = [
      ['GET', `/Users?filter=${encodeURIComponent('userName sw')}`, undefined, 400, 'invalidFilter'],
      ['GET', `/Users?filter=${encodeURIComponent('password eq "x"')}`, undefined, 400, 'invalidFilter'],
      ['GET', '/Users?count=1e9', undefined, 400, 'invalidValue'],
      [
        'POST',
        '/Users',
        { schemas: [SCIM_USER_SCHEMA], userName: 'x@example.com', shoeSize: 44 },
        400,
        'invalidSyntax',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'meta.created', value: 'x' }] },
        400,
        'mutability',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        { schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'add', path: 'favouriteColour', value: 'x' }] },
        400,
        'invalidPath',
      ],
      ['POST', '/Groups', { schemas: [SCIM_GROUP_SCHEMA], displayName: 'no-such-role' }, 400, 'invalidValue'],
    ];
    for (const [method, path, body, status, scimType] of hostile) {
      const r = await scim(method, path, body);
      expect([method, path, r.status, JSON.parse(r.text).scimType]).toEqual([method, path, status, scimType]);
    }
    const huge = JSON.parse((await scim('GET', '/Users?count=99999999999')).text);
    expect(huge.itemsPerPage).toBeLessThanOrEqual(100);
    const spc = JSON.parse((await scim('GET', '/ServiceProviderConfig')).text);
    expect(spc.patch.supported).toBe(true);

    // A group is a role: Okta finds it by displayName and pushes members.
    await stack.services.roles.put(admin, 'auditors', {
      description: 'read every log',
      purpose: 'external audit',
      scopes: { '*': ['events:read'] },
    });
    const g = JSON.parse(
      (await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "auditors"')}`)).text,
    );
    expect(g.Resources[0].id).toBe('auditors');
    const pushed = await scim('PATCH', '/Groups/auditors', {
      schemas: [SCIM_PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: 'dana@example.com' }] }],
    });
    expect([pushed.status, JSON.parse(pushed.text).members.length]).toEqual([200, 1]);
    expect((await stack.services.principals.get(admin, id)).roles).toEqual(['auditors']);

    const { apiKey: danaKey } = await stack.services.principals.rotate(admin, id);
    const probe = (key: string) =>
      fetch(`${stack.info.apiUrl}/v1/admin/principals`, { headers: { authorization: `Bearer ${key}` } }).then(
        (r) => r.status,
      );
    expect(await probe(danaKey)).toBe(403); // authenticated, no admin scope
    expect(await probe(idpKey)).toBe(403); // the IdP can provision users and nothing else

    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [SCIM_PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect([off.status, JSON.parse(off.text).active]).toEqual([200, false]);
    expect(await probe(danaKey)).toBe(401);

    const p = await stack.services.principals.get(admin, id);
    expect(p).toMatchObject({ status: 'revoked', idpIdentity: 'dana@example.com', createdBy: 'entra-scim' });
    // Entra ID deletes after its soft-delete window: 204, then 404.
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);
  });
});
