import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasScope,
  keyExpired,
  keyExpiresAtMs,
  type Principal,
  PrincipalError,
  SCOPES,
  type Scope,
  type ScopeMap,
  validateCreateInput,
  validateScopes,
  validateUpdateInput,
} from '../../src/core/principal.ts';
import {
  driftOf,
  effectiveScopes,
  isDrift,
  type Role,
  RoleError,
  roleGrantedScopes,
  scopeDifference,
  scopeMapsEqual,
  unionScopes,
  validateRoleInput,
} from '../../src/core/role.ts';

const LOGS = ['tenant-a', 'tenant-b', 'billing', 'system', 'ops'] as const;
const TARGETS = ['*', 'tenant-*', 't*', 'billing', 'tenant-a', 'system', 'ops'] as const;

const scopeList = fc.uniqueArray(fc.constantFrom(...SCOPES), { minLength: 1, maxLength: 5 });
/** Arbitrary scope maps, valid by construction except for events:write on system (filtered). */
const scopeMap: fc.Arbitrary<ScopeMap> = fc
  .dictionary(fc.constantFrom(...TARGETS), scopeList, { maxKeys: 4 })
  .map((m) => {
    const out: Record<string, Scope[]> = {};
    for (const [k, v] of Object.entries(m)) {
      const list = k === 'system' ? v.filter((s) => s !== 'events:write') : v;
      if (list.length > 0) out[k] = list;
    }
    return validateScopes(out);
  });
const roleId = fc.constantFrom('reader', 'writer', 'auditor', 'ops-admin', 'ghost');

function principal(scopes: ScopeMap, roles?: string[], status: Principal['status'] = 'active'): Principal {
  return {
    id: 'p-test',
    name: 'n',
    kind: 'agent',
    owner: 'alice',
    purpose: 'p',
    scopes,
    ...(roles ? { roles } : {}),
    status,
    keyId: 'k_0000000000000000',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
  };
}

const roleSet = fc
  .dictionary(fc.constantFrom('reader', 'writer', 'auditor', 'ops-admin'), scopeMap, { maxKeys: 4 })
  .map((d) => new Map(Object.entries(d).map(([id, scopes]) => [id, { scopes }])));

describe('log patterns in scope maps', () => {
  it('a pattern grants on the logs it prefixes, never on others, never global', () => {
    const p = principal(validateScopes({ 'tenant-*': ['events:read'], 'ops-*': ['admin'] }));
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(true);
    expect(hasScope(p, 'tenant-', 'events:read')).toBe(true);
    expect(hasScope(p, 'tenant', 'events:read')).toBe(false);
    expect(hasScope(p, 'billing', 'events:read')).toBe(false);
    expect(hasScope(p, '*', 'events:read')).toBe(false);
    expect(hasScope(p, 'ops-eu', 'export')).toBe(true); // admin on a pattern: every scope on those logs
    expect(hasScope(p, 'ops-eu', 'admin')).toBe(true);
    expect(hasScope(p, '*', 'admin')).toBe(false);
  });
  it('nobody writes the system log, whatever pattern covers it', () => {
    const p = principal(validateScopes({ 's*': ['admin', 'events:write'], '*': ['events:write'] }));
    expect(hasScope(p, 'system', 'events:write')).toBe(false);
    expect(hasScope(p, 'system', 'events:read')).toBe(true);
    expect(hasScope(p, 'sales', 'events:write')).toBe(true);
  });
  it.each(['*-a', 'tenant-**', 'Tenant-*', '-*', `${'a'.repeat(63)}*`, 'a*b'])('refuses target %s', (t) => {
    expect(() => validateScopes({ [t]: ['events:read'] })).toThrow(PrincipalError);
  });
});

describe('effective permissions (property)', () => {
  it('is the union: every role grant and every direct grant holds, and nothing else', () => {
    fc.assert(
      fc.property(scopeMap, roleSet, fc.uniqueArray(roleId, { maxLength: 4 }), (direct, roles, held) => {
        const eff = effectiveScopes({ scopes: direct, roles: held }, roles);
        const authed = { ...principal(direct, held), effectiveScopes: eff };
        for (const logId of [...LOGS, '*'])
          for (const s of SCOPES) {
            const viaDirect = hasScope(principal(direct), logId, s);
            const viaRoles = held.some((id) => {
              const r = roles.get(id);
              return r !== undefined && hasScope(principal(r.scopes), logId, s);
            });
            // Union of grants: allowed iff allowed by the direct map or by one role's map alone
            // (hasScope is monotone and no rule combines grants across targets).
            expect(hasScope(authed, logId, s)).toBe(viaDirect || viaRoles);
          }
      }),
    );
  });
  it('union is commutative, idempotent and has {} as identity', () => {
    fc.assert(
      fc.property(scopeMap, scopeMap, (a, b) => {
        expect(unionScopes(a, b)).toEqual(unionScopes(b, a));
        expect(unionScopes(a, a)).toEqual(unionScopes(a));
        expect(unionScopes(a, {})).toEqual(a);
        expect(scopeMapsEqual(unionScopes(scopeDifference(a, b), b), unionScopes(a, b))).toBe(true);
      }),
    );
  });
  it('a principal that did not come through authentication gets its direct scopes only', () => {
    const p = principal({}, ['reader']);
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(false);
  });
  it('a revoked principal has nothing, roles or not', () => {
    const roles = new Map([['reader', { scopes: { '*': ['events:read'] as Scope[] } }]]);
    const p = principal({}, ['reader'], 'revoked');
    expect(hasScope({ ...p, effectiveScopes: effectiveScopes(p, roles) }, 'ops', 'events:read')).toBe(false);
  });
});

describe('drift (property)', () => {
  it('no direct scopes and every role present ⇔ no finding', () => {
    fc.assert(
      fc.property(roleSet, fc.uniqueArray(roleId, { maxLength: 4 }), (roles, held) => {
        const f = driftOf(principal({}, held), roles);
        const missing = held.filter((r) => !roles.has(r));
        if (missing.length === 0) expect(f).toBeUndefined();
        else expect(f?.reasons).toEqual(['missing-role']);
      }),
    );
  });
  it('drift ⇔ effective permissions differ from what the roles grant, or a role is missing', () => {
    fc.assert(
      fc.property(scopeMap, roleSet, fc.uniqueArray(roleId, { maxLength: 4 }), (direct, roles, held) => {
        const p = principal(direct, held);
        const f = driftOf(p, roles);
        const differs = !scopeMapsEqual(effectiveScopes(p, roles), roleGrantedScopes(p, roles));
        const missing = held.some((r) => !roles.has(r));
        expect(f !== undefined && isDrift(f)).toBe(differs || missing);
        if (f) {
          // beyondRoles is exactly what the direct scopes add.
          expect(
            scopeMapsEqual(
              unionScopes(roleGrantedScopes(p, roles), f.beyondRoles),
              effectiveScopes(p, roles),
            ),
          ).toBe(true);
          expect(f.reasons).toEqual([...f.reasons].sort());
        }
        if (Object.keys(direct).length > 0) expect(f).toBeDefined(); // direct scopes are always reported
        expect(driftOf({ ...p, status: 'revoked' }, roles)).toBeUndefined();
      }),
    );
  });
  it('reports a legacy principal (no roles field) with scopes as direct grants', () => {
    const f = driftOf(principal({ 'tenant-a': ['events:write'] }), new Map());
    expect(f).toMatchObject({ reasons: ['direct-grants'], beyondRoles: { 'tenant-a': ['events:write'] } });
  });
  it('direct grants a role already gives are redundant, not drift', () => {
    const roles = new Map([['writer', { scopes: { 'tenant-a': ['events:write'] as Scope[] } }]]);
    const f = driftOf(principal({ 'tenant-a': ['events:write'] }, ['writer']), roles);
    expect(f?.reasons).toEqual(['redundant-direct']);
    expect(f && isDrift(f)).toBe(false);
  });
});

describe('role input', () => {
  it('normalises scopes and trims text', () => {
    const r = validateRoleInput({
      description: ' writes tenant events ',
      purpose: 'ingest',
      scopes: { 'tenant-*': ['events:write', 'events:write'] },
    });
    expect(r).toEqual({
      description: 'writes tenant events',
      purpose: 'ingest',
      scopes: { 'tenant-*': ['events:write'] },
    });
    expect(validateRoleInput({ description: 'd', purpose: 'p', scopes: {} }).scopes).toEqual({});
  });
  it.each([
    [null, ''],
    [[], ''],
    [{ description: 'd', purpose: 'p' }, '/scopes'],
    [{ description: 'd', purpose: 'p', scopes: { system: ['events:write'] } }, '/scopes/system/0'],
    [{ description: 'd', purpose: 'p', scopes: { x: 'admin' } }, '/scopes/x'],
    [{ description: '', purpose: 'p', scopes: {} }, '/description'],
    [{ description: 'd', purpose: 'a\u0000b', scopes: {} }, '/purpose'],
    [{ description: 'd', purpose: 'p', scopes: {}, version: 3 }, '/version'],
    [{ description: 'd', purpose: 'p', scopes: {}, id: 'x' }, '/id'],
  ])('refuses %j at %s', (input, path) => {
    try {
      validateRoleInput(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RoleError);
      expect((err as RoleError).code).toBe('INVALID_ROLE_INPUT');
      expect((err as RoleError).path).toBe(path);
    }
  });
  it('never throws anything but RoleError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          validateRoleInput(v);
        } catch (err) {
          expect(err).toBeInstanceOf(RoleError);
        }
      }),
    );
  });
});

describe('principal metadata', () => {
  const base = { name: 'n', purpose: 'p' };
  it('an agent or application is owned by a human principal id; a human may name anyone', () => {
    expect(validateCreateInput({ ...base, kind: 'agent', owner: 'alice', roles: ['reader'] })).toMatchObject({
      owner: 'alice',
      roles: ['reader'],
      scopes: {},
    });
    expect(() => validateCreateInput({ ...base, kind: 'application', owner: 'Team Billing' })).toThrow(
      PrincipalError,
    );
    expect(validateCreateInput({ ...base, kind: 'human', owner: 'Team Billing' }).owner).toBe('Team Billing');
  });
  it('only humans have an IdP identity', () => {
    expect(
      validateCreateInput({ ...base, kind: 'human', owner: 'o', idpIdentity: 'alice@example.com' })
        .idpIdentity,
    ).toBe('alice@example.com');
    expect(() => validateCreateInput({ ...base, kind: 'agent', owner: 'alice', idpIdentity: 'x' })).toThrow(
      PrincipalError,
    );
    expect(() => validateUpdateInput({ idpIdentity: 'x' }, 'application')).toThrow(PrincipalError);
    expect(validateUpdateInput({ idpIdentity: null }, 'human')).toEqual({ idpIdentity: null });
  });
  it('roles are sorted and distinct; bad ids are refused with their path', () => {
    expect(validateUpdateInput({ roles: ['b', 'a', 'b'] }).roles).toEqual(['a', 'b']);
    try {
      validateUpdateInput({ roles: ['ok', 'Not Ok'] });
      expect.unreachable();
    } catch (err) {
      expect((err as PrincipalError).path).toBe('/roles/1');
    }
  });
  it('keys expire at exactly issue time + the kind’s maximum age', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 12 }),
        fc.integer({ min: 0, max: 10 ** 13 }),
        fc.boolean(),
        (maxAge, elapsed, rotated) => {
          const created = Date.parse('2026-01-01T00:00:00.000Z');
          const issued = rotated ? created + 1000 : created;
          const p: Principal = {
            ...principal({}),
            ...(rotated ? { rotatedAt: new Date(issued).toISOString() } : {}),
          };
          expect(keyExpiresAtMs(p, { agent: maxAge })).toBe(issued + maxAge);
          expect(keyExpired(p, { agent: maxAge }, issued + elapsed)).toBe(elapsed >= maxAge);
          expect(keyExpired(p, { human: maxAge }, issued + elapsed)).toBe(false); // other kind's limit
          expect(keyExpired(p, { agent: 0 }, issued + elapsed)).toBe(false); // 0: no limit
          // A key issued before `countFrom` ages from then: an upgrade never expires it at once.
          const from = issued + 5000;
          expect(keyExpiresAtMs(p, { agent: maxAge, countFrom: from })).toBe(from + maxAge);
          expect(keyExpiresAtMs(p, { agent: maxAge, countFrom: issued - 5000 })).toBe(issued + maxAge);
        },
      ),
    );
  });
});

// Keep the Role type exercised so a shape change shows up here.
const _role: Role = { id: 'r', version: 1, description: 'd', purpose: 'p', scopes: {} };
void _role;
