/**
 * SCIM over real HTTP on the local stack (docs/access.md "SCIM"): an identity
 * provider principal holding only `scim:provision` provisions a user, finds
 * it by userName and deactivates it; the key an admin issued the user answers
 * 401 right after; the system log holds both changes with the IdP as
 * submitter; the IdP's key can do nothing else (403 on the admin API).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_PATCH_SCHEMA, SCIM_USER_SCHEMA } from '../../src/core/scim.ts';
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
    const bad = await scim('GET', `/Users?filter=${encodeURIComponent('userName sw "d"')}`);
    expect([bad.status, JSON.parse(bad.text).scimType]).toEqual([400, 'invalidFilter']);

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
  });
});
