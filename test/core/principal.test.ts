import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import {
  constantTimeEqual,
  generatePrincipalId,
  hasScope,
  isPrincipalId,
  issueApiKey,
  keyCommitment,
  MAX_API_KEY_LENGTH,
  type Principal,
  PrincipalError,
  parseApiKey,
  validateCreateInput,
  validateScopes,
  validateUpdateInput,
} from '../../src/core/principal.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
/** Deterministic "randomness": bytes counting up from `start`. */
const counting =
  (start = 0) =>
  (n: number) =>
    Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);

function principal(scopes: Principal['scopes'], status: Principal['status'] = 'active'): Principal {
  return {
    id: 'p-test',
    name: 'n',
    kind: 'agent',
    owner: 'o',
    purpose: 'p',
    scopes,
    status,
    keyId: 'k_0000000000000000',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
  };
}

function expectCode(f: () => unknown, code: string, path?: string) {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(PrincipalError);
    expect((err as PrincipalError).code).toBe(code);
    if (path !== undefined) expect((err as PrincipalError).path).toBe(path);
    return;
  }
  throw new Error('expected a PrincipalError');
}

describe('principal ids', () => {
  it('generates p_ + 32 hex from 16 injected bytes', () => {
    expect(generatePrincipalId(counting(0))).toBe('p_000102030405060708090a0b0c0d0e0f');
    expect(isPrincipalId(generatePrincipalId(random))).toBe(true);
  });
  it.each([
    ['abc', true],
    ['ops-admin', true],
    [`a${'b'.repeat(62)}`, true],
    [`a${'b'.repeat(63)}`, false],
    ['ab', false],
    ['-abc', false],
    ['Abc', false],
    ['a_b_c', false],
    ['p_0123', false],
    ['p_000102030405060708090a0b0c0d0e0F', false],
  ])('%s → %s', (id, ok) => {
    expect(isPrincipalId(id)).toBe(ok);
  });
  it('refuses a short read from the RNG', () => {
    expect(() => generatePrincipalId(() => new Uint8Array(15))).toThrow(TypeError);
  });
});

describe('API keys', () => {
  it('issues alk_<id>_<43 base64url chars> and stores only SHA-256(secret)', () => {
    const k = issueApiKey('ops-admin', counting(1));
    const secret = counting(1)(32);
    expect(k.apiKey).toBe(`alk_ops-admin_${toBase64Url(secret)}`);
    expect(k.apiKey).toMatch(/^alk_ops-admin_[A-Za-z0-9_-]{43}$/);
    expect(k.secretHash).toEqual(sha256(secret));
    expect(k.keyId).toMatch(/^k_[0-9a-f]{16}$/);
  });
  it('round-trips generated ids whose key contains extra underscores', () => {
    for (let i = 0; i < 200; i++) {
      const id = generatePrincipalId(random);
      const k = issueApiKey(id, random);
      const parsed = parseApiKey(k.apiKey);
      expect(parsed.principalId).toBe(id);
      expect(constantTimeEqual(parsed.secretHash, k.secretHash)).toBe(true);
    }
  });
  it('parses a key whose secret starts with _ or -', () => {
    const secret = new Uint8Array(32).fill(0xff); // base64url "____…"
    const key = `alk_abc_${toBase64Url(secret)}`;
    expect(parseApiKey(key).principalId).toBe('abc');
    const id = 'p_000102030405060708090a0b0c0d0e0f';
    expect(parseApiKey(`alk_${id}_${toBase64Url(secret)}`).principalId).toBe(id);
  });
  const good = issueApiKey('ops-admin', counting(7)).apiKey;
  it.each([
    ['empty', ''],
    ['garbage', 'hunter2'],
    ['wrong prefix', good.replace('alk_', 'ak_')],
    ['upper-case prefix', good.replace('alk_', 'ALK_')],
    ['huge', `alk_abc_${'A'.repeat(100_000)}`],
    ['just over the length limit', `alk_${'a'.repeat(MAX_API_KEY_LENGTH)}`],
    ['non-ASCII secret', `${good.slice(0, -1)}é`],
    ['non-ASCII id', good.replace('ops-admin', 'öps-admin')],
    ['secret one char short', good.slice(0, -1)],
    ['secret one char long', `${good}A`],
    ['no id', `alk__${good.slice(-43)}`],
    ['invalid id', `alk_A-B_${good.slice(-43)}`],
    ['missing separator', `alk_ops-admin${good.slice(-43)}`],
    ['padding', `${good.slice(0, -1)}=`],
    ['standard-base64 characters', `${good.slice(0, -2)}+/`],
    ['non-canonical trailing bits', `${good.slice(0, -1)}B`],
    ['whitespace inside', `${good.slice(0, 20)} ${good.slice(21)}`],
  ])('rejects %s', (_why, key) => {
    expectCode(() => parseApiKey(key), 'MALFORMED_API_KEY');
  });
  it('never echoes the presented key in errors', () => {
    try {
      parseApiKey(`${good}X`);
    } catch (err) {
      expect((err as Error).message).not.toContain(good.slice(-43));
    }
  });
  it('base64url is strict', () => {
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(fromBase64Url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(() => fromBase64Url('-_9')).toThrow();
    expect(() => fromBase64Url('A')).toThrow();
  });
});

describe('constantTimeEqual', () => {
  it('compares bytes', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(), new Uint8Array())).toBe(true);
    const a = random(32);
    for (let i = 0; i < 32; i++) {
      const b = a.slice();
      b[i] = (b[i] as number) ^ 0x80;
      expect(constantTimeEqual(a, b)).toBe(false);
    }
  });
});

describe('hasScope', () => {
  it('grants listed scopes on the listed log only', () => {
    const p = principal({ 'tenant-a': ['events:write'] });
    expect(hasScope(p, 'tenant-a', 'events:write')).toBe(true);
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(false);
    expect(hasScope(p, 'tenant-b', 'events:write')).toBe(false);
    expect(hasScope(p, '*', 'events:write')).toBe(false);
  });
  it('non-admin scopes on * cover every log except writes to system', () => {
    const p = principal({ '*': ['events:read', 'events:write'] });
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(true);
    expect(hasScope(p, 'tenant-z', 'events:write')).toBe(true);
    expect(hasScope(p, 'system', 'events:read')).toBe(true);
    expect(hasScope(p, 'system', 'events:write')).toBe(false);
    expect(hasScope(p, '*', 'events:read')).toBe(true);
    expect(hasScope(p, 'tenant-a', 'export')).toBe(false);
  });
  it('nobody may write the system log: a stored grant for it is inert', () => {
    // Such grants are refused at creation (below); these model items stored by older versions.
    expect(hasScope(principal({ system: ['events:write'] }), 'system', 'events:write')).toBe(false);
    expect(hasScope(principal({ system: ['admin'] }), 'system', 'events:write')).toBe(false);
    expect(hasScope(principal({ system: ['admin'] }), 'system', 'export')).toBe(true);
    expect(hasScope(principal({ '*': ['admin'] }), 'system', 'events:write')).toBe(false);
  });
  it('admin on * implies everything but writing the system log', () => {
    const p = principal({ '*': ['admin'] });
    for (const scope of ['events:write', 'events:read', 'proofs:read', 'export', 'admin'] as const) {
      expect(hasScope(p, 'tenant-a', scope)).toBe(true);
      expect(hasScope(p, '*', scope)).toBe(true);
      expect(hasScope(p, 'system', scope)).toBe(scope !== 'events:write');
    }
  });
  it('admin on a log implies every scope on that log, not global admin', () => {
    const p = principal({ 'tenant-a': ['admin'] });
    expect(hasScope(p, 'tenant-a', 'export')).toBe(true);
    expect(hasScope(p, 'tenant-a', 'admin')).toBe(true);
    expect(hasScope(p, 'tenant-b', 'events:read')).toBe(false);
    expect(hasScope(p, '*', 'admin')).toBe(false);
  });
  it('log ids that are Object.prototype names are ordinary logs', () => {
    const p = principal({ constructor: ['events:read'] as Principal['scopes'][string] });
    expect(hasScope(p, 'constructor', 'events:read')).toBe(true);
    expect(hasScope(p, 'tostring', 'events:read')).toBe(false);
    expect(hasScope(principal({}), 'constructor', 'events:read')).toBe(false);
    expect(hasScope(principal({}), 'hasownproperty', 'admin')).toBe(false);
    expect(validateScopes({ constructor: ['export'] })).toEqual({ constructor: ['export'] });
  });
  it('a revoked principal has nothing', () => {
    expect(hasScope(principal({ '*': ['admin'] }, 'revoked'), 'tenant-a', 'events:read')).toBe(false);
  });
});

describe('keyCommitment', () => {
  it('is a domain-separated digest of the secret hash, never the hash itself', () => {
    const key = issueApiKey('p-test', counting(7));
    const c = keyCommitment(key.secretHash);
    expect(c).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(c).toBe(keyCommitment(new Uint8Array(key.secretHash)));
    expect(c).not.toBe(toBase64Url(key.secretHash));
    expect(c).not.toBe(toBase64Url(sha256(key.secretHash)));
    expect(keyCommitment(issueApiKey('p-test', counting(8)).secretHash)).not.toBe(c);
    expect(() => keyCommitment(new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('input validation', () => {
  const ok = {
    name: ' Billing agent ',
    kind: 'agent',
    owner: 'team-billing',
    purpose: 'writes tool-call events',
    scopes: { 'tenant-a': ['events:read', 'events:write', 'events:write'], '*': ['proofs:read'] },
  };
  it('accepts and normalises', () => {
    const v = validateCreateInput(ok);
    expect(v.name).toBe('Billing agent');
    expect(v.scopes).toEqual({ '*': ['proofs:read'], 'tenant-a': ['events:write', 'events:read'] });
    expect(Object.keys(v.scopes)).toEqual(['*', 'tenant-a']);
    expect(validateCreateInput({ ...ok, id: 'billing-agent' }).id).toBe('billing-agent');
  });
  it.each([
    [null, ''],
    [[], ''],
    [{ ...ok, extra: 1 }, '/extra'],
    [{ ...ok, name: '' }, '/name'],
    [{ ...ok, name: '   ' }, '/name'],
    [{ ...ok, name: 'a\nb' }, '/name'],
    [{ ...ok, name: 'x'.repeat(129) }, '/name'],
    [{ ...ok, name: 5 }, '/name'],
    [{ ...ok, kind: 'robot' }, '/kind'],
    [{ ...ok, owner: undefined }, '/owner'],
    [{ ...ok, purpose: 'a\u2028b' }, '/purpose'],
    [{ ...ok, id: 'p_000102030405060708090a0b0c0d0e0f' }, '/id'],
    [{ ...ok, id: 'UPPER' }, '/id'],
    [{ ...ok, scopes: [] }, '/scopes'],
    [{ ...ok, scopes: { 'Tenant A': ['events:read'] } }, '/scopes/Tenant A'],
    [{ ...ok, scopes: { 'tenant-a': [] } }, '/scopes/tenant-a'],
    [{ ...ok, scopes: { 'tenant-a': 'events:read' } }, '/scopes/tenant-a'],
    [{ ...ok, scopes: { 'tenant-a': ['events:read', 'events:delete'] } }, '/scopes/tenant-a/1'],
    [{ ...ok, scopes: { system: ['events:read', 'events:write'] } }, '/scopes/system/1'],
  ])('rejects %j at %s', (input, path) => {
    expectCode(() => validateCreateInput(input), 'INVALID_PRINCIPAL_INPUT', path);
  });
  it('limits the number of logs', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`log-${i}`, ['events:read']]));
    expectCode(() => validateScopes(many), 'INVALID_PRINCIPAL_INPUT', '/scopes');
  });
  it('update needs at least one known field', () => {
    expect(validateUpdateInput({ scopes: { x: ['export'] } })).toEqual({ scopes: { x: ['export'] } });
    expectCode(() => validateUpdateInput({}), 'INVALID_PRINCIPAL_INPUT', '');
    expectCode(() => validateUpdateInput({ status: 'active' }), 'INVALID_PRINCIPAL_INPUT', '/status');
    expectCode(() => validateUpdateInput({ kind: 'human' }), 'INVALID_PRINCIPAL_INPUT', '/kind');
  });
});
