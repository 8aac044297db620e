import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parsePaging,
  parseScimCreate,
  parseScimFilter,
  parseScimPatch,
  SCIM_PATCH_SCHEMA,
  SCIM_USER_SCHEMA,
  ScimError,
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

describe('SCIM parsing (hostile input: only ScimError, never anything else)', () => {
  it('garbage bodies, filters and paging throw ScimError or parse', () => {
    fc.assert(
      fc.property(fc.anything(), fc.string({ maxLength: 300 }), (body, text) => {
        scimErrorOf(() => parseScimCreate(body));
        scimErrorOf(() => parseScimPatch(body));
        scimErrorOf(() => parseScimPatch({ schemas: [SCIM_PATCH_SCHEMA], Operations: [body] }));
        scimErrorOf(() => parseScimFilter(text));
        scimErrorOf(() => parsePaging(text, text));
      }),
      { numRuns: 500 },
    );
  });

  it('userName eq "…": any string value round-trips; attribute and operator case-insensitive', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 256 }), (v) => {
        expect(parseScimFilter(`userName eq ${JSON.stringify(v)}`)).toEqual({ userName: v });
        expect(parseScimFilter(`USERNAME EQ ${JSON.stringify(v)}`)).toEqual({ userName: v });
      }),
    );
    for (const bad of [
      'userName co "a"',
      'userName eq "a" and active eq true',
      'emails eq "a"',
      'userName eq a',
      'userName eq "a',
      '',
      'x'.repeat(2000),
    ])
      expect(scimErrorOf(() => parseScimFilter(bad))?.scimType).toBe('invalidFilter');
  });

  it('the user id is one per userName, whatever its case', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (u) => {
        expect(scimUserId(u)).toMatch(/^p_[0-9a-f]{32}$/);
        expect(scimUserId(u.toUpperCase())).toBe(scimUserId(u.toLowerCase()));
      }),
    );
  });

  it('PATCH: the Okta and Entra ID deactivation shapes; anything but active refused, whole', () => {
    // Okta's deactivation shape (Okta SCIM 2.0 guide, "Update a specific User (PATCH)"): no path, a value object.
    expect(
      parseScimPatch({
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'replace', value: { active: false } }],
      }),
    ).toEqual({ active: false });
    // Entra ID's shape (Microsoft "Develop a SCIM endpoint", "Disable user"): capitalised op, a path, a string boolean.
    expect(
      parseScimPatch({
        schemas: [SCIM_PATCH_SCHEMA],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      }),
    ).toEqual({ active: false });
    expect(
      scimErrorOf(() =>
        parseScimPatch({
          schemas: [SCIM_PATCH_SCHEMA],
          Operations: [
            { op: 'replace', path: 'active', value: false },
            { op: 'replace', path: 'userName', value: 'eve' },
          ],
        }),
      )?.scimType,
    ).toBe('mutability');
    expect(
      scimErrorOf(() =>
        parseScimPatch({ schemas: [SCIM_PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'active' }] }),
      )?.scimType,
    ).toBe('mutability');
    expect(
      scimErrorOf(() =>
        parseScimPatch({
          schemas: [SCIM_PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'active', value: 'maybe' }],
        }),
      )?.scimType,
    ).toBe('invalidValue');
    expect(
      scimErrorOf(() =>
        parseScimPatch({
          schemas: [SCIM_PATCH_SCHEMA],
          Operations: Array(33).fill({ op: 'replace', path: 'active', value: true }),
        }),
      )?.scimType,
    ).toBe('tooMany');
  });

  it('create: the Okta example body; display name fallbacks; bad shapes refused', () => {
    // Shaped like the "Create the User" example of Okta's SCIM 2.0 guide (values illustrative).
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
    expect(parseScimCreate(okta)).toEqual({
      userName: 'test.user@okta.local',
      displayName: 'Test User',
      active: true,
    });
    expect(parseScimCreate({ ...okta, displayName: undefined })).toMatchObject({ displayName: 'Test User' });
    expect(parseScimCreate({ schemas: [SCIM_USER_SCHEMA], userName: 'x@y' })).toMatchObject({
      displayName: 'x@y',
    });
    expect(scimErrorOf(() => parseScimCreate({ ...okta, schemas: [] }))?.scimType).toBe('invalidSyntax');
    expect(scimErrorOf(() => parseScimCreate({ ...okta, userName: '' }))?.scimType).toBe('invalidValue');
    expect(scimErrorOf(() => parseScimCreate({ ...okta, userName: 'a\u0000b' }))?.scimType).toBe(
      'invalidValue',
    );
    expect(scimErrorOf(() => parseScimCreate({ ...okta, active: 'yes' }))?.scimType).toBe('invalidValue');
  });

  it('paging: RFC 7644 §3.4.2.4 clamps; non-integers refused', () => {
    expect(parsePaging(undefined, undefined)).toEqual({ startIndex: 1, count: 100 });
    expect(parsePaging('0', '-5')).toEqual({ startIndex: 1, count: 0 });
    expect(parsePaging('3', '100000')).toEqual({ startIndex: 3, count: 100 });
    expect(scimErrorOf(() => parsePaging('1.5', undefined))?.scimType).toBe('invalidValue');
  });
});
