/**
 * SCIM parsing, filters and PATCH (src/core/scim.ts), pure: hostile input
 * throws ScimError and nothing else; the request shapes Okta and Entra ID
 * send (their published SCIM guides: Okta "SCIM 2.0 protocol reference",
 * Microsoft "Tutorial: Develop a sample SCIM endpoint" / "Known issues")
 * parse; immutable and unknown attributes are refused with RFC 7644 types.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyScimPatch,
  checkImmutable,
  compileScimFilter,
  MAX_PAGE,
  parsePaging,
  parseScimGroup,
  parseScimUser,
  SCIM_ENTERPRISE_SCHEMA,
  SCIM_GROUP_SCHEMA,
  SCIM_PATCH_SCHEMA,
  SCIM_USER_SCHEMA,
  ScimError,
  scimSchemas,
  scimUser,
  scimUserId,
} from '../../src/core/scim.ts';

function scimErrorOf(fn: () => unknown): ScimError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ScimError);
    return err as ScimError;
  }
}

const patch = (...Operations: unknown[]) => ({ schemas: [SCIM_PATCH_SCHEMA], Operations });

const user = scimUser({
  id: scimUserId('ada@example.com'),
  idpIdentity: 'ada@example.com',
  name: 'Ada Lovelace',
  status: 'active',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
  version: 1,
  idpProfile: {
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [
      { value: 'ada@example.com', type: 'work', primary: true },
      { value: 'ada@home.example', type: 'home' },
    ],
    title: 'Engineer',
    [SCIM_ENTERPRISE_SCHEMA]: { department: 'R&D' },
  },
});

describe('SCIM parsing (hostile input: only ScimError, never anything else)', () => {
  it('garbage bodies, filters, patches and paging throw ScimError or parse', () => {
    fc.assert(
      fc.property(fc.anything(), fc.string({ maxLength: 300 }), (body, text) => {
        scimErrorOf(() => parseScimUser(body));
        scimErrorOf(() => parseScimGroup(body));
        scimErrorOf(() => applyScimPatch('User', user, body));
        scimErrorOf(() => applyScimPatch('User', user, patch(body)));
        scimErrorOf(() =>
          applyScimPatch('Group', { schemas: [SCIM_GROUP_SCHEMA], members: [] }, patch(body)),
        );
        scimErrorOf(() => applyScimPatch('User', user, patch({ op: 'replace', path: text, value: body })));
        scimErrorOf(() => compileScimFilter('User', text)(user));
        scimErrorOf(() => parsePaging(text, text));
      }),
      { numRuns: 400 },
    );
  });

  it('the user id is one per userName, whatever its case', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (u) => {
        expect(scimUserId(u)).toMatch(/^p_[0-9a-f]{32}$/);
        expect(scimUserId(u.toUpperCase())).toBe(scimUserId(u.toLowerCase()));
      }),
    );
  });

  it('filters: eq co sw ew pr gt, and/or/not, value filters; case-insensitive; unknown attributes refused', () => {
    const yes = [
      'userName eq "ADA@example.com"',
      'USERNAME EQ "ada@example.com"',
      'userName co "example"',
      'userName sw "ada"',
      'userName ew ".COM"',
      'title pr',
      'emails[type eq "work"].value eq "ada@example.com"',
      'emails.value co "home"',
      'active eq true',
      'userName sw "x" or title eq "engineer"',
      'userName sw "a" and (title eq "x" or name.givenName eq "ada")',
      'not (userName eq "bob@example.com")',
      `${SCIM_ENTERPRISE_SCHEMA}:department eq "r&d"`,
      'meta.created gt "2026-01-01"',
      `externalId pr or id eq "${user.id}"`,
    ];
    for (const f of yes) expect([f, compileScimFilter('User', f)(user)]).toEqual([f, true]);
    const no = ['userName eq "bob"', 'nickName pr', 'active eq false', 'userName sw "b" and title pr'];
    for (const f of no) expect([f, compileScimFilter('User', f)(user)]).toEqual([f, false]);
    for (const bad of [
      'favouriteColour eq "blue"',
      'name.shoeSize eq 3',
      'emails[kind eq "work"]',
      'userName eq',
      'userName xx "a"',
      ')(',
      '',
      'x'.repeat(2000),
      Array(80).fill('userName pr').join(' or '),
    ])
      expect([bad.slice(0, 40), scimErrorOf(() => compileScimFilter('User', bad))?.scimType]).toEqual([
        bad.slice(0, 40),
        'invalidFilter',
      ]);
    expect(compileScimFilter('Group', 'displayName eq "Auditors"')({ displayName: 'auditors' })).toBe(true);
  });

  it('PATCH: the Okta and Entra ID shapes apply; the result validates', () => {
    const apply = (...ops: unknown[]) => parseScimUser(applyScimPatch('User', user, patch(...ops)));
    // Okta: no path, a value object.
    expect(apply({ op: 'replace', value: { active: false } }).active).toBe(false);
    // Entra ID: capitalised op, a path, a string boolean.
    expect(apply({ op: 'Replace', path: 'active', value: 'False' }).active).toBe(false);
    expect(apply({ op: 'Replace', path: 'active', value: 'True' }).active).toBe(true);
    // Entra ID: attribute paths, value-filter paths (match and no match: add creates it).
    const e = apply(
      { op: 'Replace', path: 'name.givenName', value: 'Augusta' },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'augusta@example.com' },
      { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
      { op: 'Add', path: `${SCIM_ENTERPRISE_SCHEMA}:manager`, value: { value: 'boss' } },
      { op: 'Remove', path: 'title' },
    );
    expect(e.profile).toMatchObject({
      name: { givenName: 'Augusta', familyName: 'Lovelace' },
      emails: [{ value: 'augusta@example.com', type: 'work' }, { type: 'home' }],
      phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
      [SCIM_ENTERPRISE_SCHEMA]: { department: 'R&D', manager: { value: 'boss' } },
    });
    expect(e.profile.title).toBeUndefined();
    // Entra ID's dotted keys in a no-path value object.
    expect(
      apply({ op: 'Replace', value: { 'name.familyName': 'King', displayName: 'Ada King' } }),
    ).toMatchObject({ displayName: 'Ada King', profile: { name: { familyName: 'King' } } });
    // Okta repeats the id in a value object: unchanged immutable values are fine.
    const same = applyScimPatch('User', user, patch({ op: 'replace', value: { id: user.id, active: true } }));
    checkImmutable(user, same, ['id', 'meta', 'userName']);
  });

  it('PATCH: immutable, unknown and malformed refused with RFC 7644 types', () => {
    const typeOf = (...ops: unknown[]) =>
      scimErrorOf(() => {
        const after = applyScimPatch('User', user, patch(...ops));
        checkImmutable(user, after, ['id', 'meta', 'userName', 'groups']);
        parseScimUser(after);
      })?.scimType;
    expect(typeOf({ op: 'replace', path: 'id', value: 'p_x' })).toBe('mutability');
    expect(typeOf({ op: 'replace', path: 'meta.created', value: '2020-01-01' })).toBe('mutability');
    expect(typeOf({ op: 'remove', path: 'meta' })).toBe('mutability');
    expect(typeOf({ op: 'replace', value: { userName: 'eve@example.com' } })).toBe('mutability');
    expect(typeOf({ op: 'add', path: 'favouriteColour', value: 'blue' })).toBe('invalidPath');
    expect(typeOf({ op: 'add', path: 'name.shoeSize', value: 3 })).toBe('invalidPath');
    expect(typeOf({ op: 'add', value: { favouriteColour: 'blue' } })).toBe('invalidPath');
    expect(typeOf({ op: 'add', path: 'name', value: { shoeSize: 3 } })).toBe('invalidSyntax');
    // A replace whose value filter matches nothing adds (Entra ID replaces attributes it never added).
    expect(typeOf({ op: 'replace', path: 'emails[type eq "fax"].value', value: 'x' })).toBe(undefined);
    expect(typeOf({ op: 'replace', path: 'active', value: 'maybe' })).toBe('invalidValue');
    expect(typeOf({ op: 'replace', path: 'title', value: { a: 1 } })).toBe('invalidValue');
    expect(typeOf({ op: 'add', path: 'name', value: { __proto__: { x: 1 } } })).toBe(undefined);
    expect(typeOf(JSON.parse('{"op":"add","path":"name","value":{"__proto__":{"x":1}}}'))).toBe(
      'invalidValue',
    );
    expect(typeOf({ op: 'remove' })).toBe('noTarget');
    expect(typeOf({ op: 'nuke', path: 'title' })).toBe('invalidSyntax');
    expect(typeOf({ op: 'add', path: 'title' })).toBe('invalidValue');
    expect(typeOf(...Array(33).fill({ op: 'replace', path: 'active', value: true }))).toBe('tooMany');
    expect(scimErrorOf(() => applyScimPatch('User', user, { Operations: [] }))?.scimType).toBe(
      'invalidSyntax',
    );
  });

  it('create: the Okta and Entra ID example bodies; display name fallbacks; bad shapes refused', () => {
    const okta = {
      schemas: [SCIM_USER_SCHEMA],
      userName: 'test.user@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    };
    const parsed = parseScimUser(okta);
    expect(parsed).toMatchObject({
      userName: 'test.user@okta.local',
      displayName: 'Test User',
      active: true,
    });
    expect(JSON.stringify(parsed)).not.toContain('1mz050nq'); // the password is never kept
    expect(parsed.profile).toMatchObject({ externalId: '00ujl29u0le5T6Aj10h7', locale: 'en-US' });
    const entra = {
      schemas: [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_SCHEMA],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [SCIM_ENTERPRISE_SCHEMA]: { department: 'Finance', manager: { value: 'mgr-1' } },
    };
    expect(parseScimUser(entra)).toMatchObject({
      displayName: 'givenName familyName',
      profile: { [SCIM_ENTERPRISE_SCHEMA]: { department: 'Finance' } },
    });
    expect(parseScimUser({ schemas: [SCIM_USER_SCHEMA], userName: 'x@y' })).toMatchObject({
      displayName: 'x@y',
    });
    const typeOf = (b: unknown) => scimErrorOf(() => parseScimUser(b))?.scimType;
    expect(typeOf({ ...okta, schemas: [] })).toBe('invalidSyntax');
    expect(typeOf({ ...okta, schemas: [SCIM_USER_SCHEMA, 'urn:x:custom'] })).toBe('invalidSyntax');
    expect(typeOf({ ...okta, shoeSize: 42 })).toBe('invalidSyntax');
    expect(typeOf({ ...okta, userName: '' })).toBe('invalidValue');
    expect(typeOf({ ...okta, userName: 'a\u0000b' })).toBe('invalidValue');
    expect(typeOf({ ...okta, active: 'yes' })).toBe('invalidValue');
    expect(typeOf({ ...okta, emails: Array(30).fill({ value: 'a' }) })).toBe('invalidValue');
    expect(typeOf({ ...okta, title: 'x'.repeat(5000) })).toBe('invalidValue');
  });

  it('groups: members as ids, at most MAX_MEMBERS; only users', () => {
    expect(
      parseScimGroup({
        schemas: [SCIM_GROUP_SCHEMA],
        displayName: ' Auditors ',
        externalId: '8f1c',
        members: [{ value: 'p_1', display: 'A' }, { value: 'p_2' }, { value: 'p_1' }],
      }),
    ).toEqual({ displayName: 'Auditors', externalId: '8f1c', members: ['p_1', 'p_2'] });
    const typeOf = (b: unknown) => scimErrorOf(() => parseScimGroup(b))?.scimType;
    expect(typeOf({ schemas: [SCIM_GROUP_SCHEMA] })).toBe('invalidValue');
    expect(
      typeOf({ schemas: [SCIM_GROUP_SCHEMA], displayName: 'a', members: [{ value: 'g', type: 'Group' }] }),
    ).toBe('invalidValue');
    expect(typeOf({ schemas: [SCIM_GROUP_SCHEMA], displayName: 'a', owner: 'x' })).toBe('invalidSyntax');
    expect(
      typeOf({ schemas: [SCIM_GROUP_SCHEMA], displayName: 'a', members: Array(1001).fill({ value: 'x' }) }),
    ).toBe('tooMany');
  });

  it('paging: RFC 7644 §3.4.2.4 clamps (huge counts too); non-integers refused', () => {
    expect(parsePaging(undefined, undefined)).toEqual({ startIndex: 1, count: MAX_PAGE });
    expect(parsePaging('0', '-5')).toEqual({ startIndex: 1, count: 0 });
    expect(parsePaging('3', '100000')).toEqual({ startIndex: 3, count: MAX_PAGE });
    expect(parsePaging('1', '99999999999999999999999')).toEqual({ startIndex: 1, count: MAX_PAGE });
    expect(scimErrorOf(() => parsePaging('1.5', undefined))?.scimType).toBe('invalidValue');
    expect(scimErrorOf(() => parsePaging('1', 'lots'))?.scimType).toBe('invalidValue');
  });

  it('the published schemas describe every attribute a user resource can carry', () => {
    const [core, ext] = scimSchemas() as Array<{ attributes: Array<{ name: string }> }>;
    const names = new Set([...(core?.attributes ?? []), ...(ext?.attributes ?? [])].map((a) => a.name));
    for (const k of Object.keys(user))
      if (!['schemas', 'id', 'meta', SCIM_ENTERPRISE_SCHEMA].includes(k)) expect(names).toContain(k);
  });
});
