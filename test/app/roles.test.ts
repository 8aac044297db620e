/**
 * Roles and the principal fields reviewers need, on the admin path as
 * deployed (./roles-moto.ts: one moto table). Every role change is one
 * `role.*` record with the whole role before and after, crash-safe at every
 * step; effective permissions follow role changes on the next request; a
 * role item written around the service grants nothing; keys expire per kind
 * with 401 KEY_EXPIRED; last use is written at most once per principal per
 * hour, however many requests and containers.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { N, S } from '../../src/adapters/aws/dynamo-items.ts';
import { AppError } from '../../src/app/errors.ts';
import { KeyExpiredError } from '../../src/app/principals.ts';
import { principalsRecoveryJob } from '../../src/compose/principals.ts';
import { hasScope, type Principal } from '../../src/core/principal.ts';
import { type RolesOnMoto, rolesOnMoto, type Step } from './roles-moto.ts';

let env: RolesOnMoto;

beforeAll(async () => {
  env = await rolesOnMoto('roles-app');
});

const DAY = 86_400_000;

async function expectApp(p: Promise<unknown>, code: string, path?: string, reason?: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (path !== undefined) expect((err as AppError).path).toBe(path);
  if (reason !== undefined) expect((err as AppError).details?.reason).toBe(reason);
}

const roleRecords = async (id: string) =>
  (await env.records()).filter((r) => r.event.target?.type === 'role' && r.event.target.id === id);

const writer = (scopes: Record<string, string[]> = { 'tenant-*': ['events:write'] }) => ({
  description: 'writes tenant audit events',
  purpose: 'the billing agent records its tool calls',
  scopes,
});

/** A human owner and an agent holding `roles`, with the agent's key. */
async function agentWith(id: string, roles: string[], scopes: Record<string, string[]> = {}) {
  const { apiKey } = await env.principals.create(env.admin, {
    id,
    name: id,
    kind: 'agent',
    owner: 'ops-admin',
    purpose: 'test agent',
    roles,
    scopes,
  });
  return apiKey;
}

describe('roles: versions and their audit records', () => {
  it('create, update, no-op: one version and one role.* record each, the whole role before and after', async () => {
    const a = await env.roles.put(env.admin, 'writer-a', writer(), { requestId: 'req-1' });
    expect(a).toMatchObject({ changed: true, created: true, view: { role: { id: 'writer-a', version: 1 } } });
    const b = await env.roles.put(
      env.admin,
      'writer-a',
      writer({ 'tenant-*': ['events:write', 'events:read'] }),
    );
    expect(b.view.role.version).toBe(2);
    const same = await env.roles.put(
      env.admin,
      'writer-a',
      writer({ 'tenant-*': ['events:read', 'events:write'] }),
    );
    expect(same.changed).toBe(false);
    const recs = await roleRecords('writer-a');
    expect(recs.map((r) => [r.event.id, r.event.action, r.submitter])).toEqual([
      ['role/writer-a/v1', 'role.create', 'ops-admin'],
      ['role/writer-a/v2', 'role.update', 'ops-admin'],
    ]);
    expect(recs[0]?.event.changes).toEqual({ before: {}, after: a.view.role });
    expect(recs[1]?.event.changes).toEqual({ before: a.view.role, after: b.view.role });
    expect(recs[0]?.event.context).toEqual({ requestId: 'req-1' });
    const history = await env.roles.history(env.admin, 'writer-a');
    expect(history.versions.map((v) => v.role.version)).toEqual([2, 1]);
    expect((await env.roles.get(env.admin, 'writer-a', { version: 1 })).role).toEqual(a.view.role);
    await expectApp(env.roles.put(env.admin, 'writer-a', writer(), { ifVersion: 1 }), 'CONFLICT');
    await expectApp(env.roles.put(env.admin, 'writer-new', writer(), { ifVersion: 3 }), 'CONFLICT');
  });

  it('needs admin on *; bad input is 400 with the field’s pointer, never 5xx', async () => {
    const apiKey = await agentWith('roles-no-admin', [], { 'tenant-a': ['admin'] });
    const notGlobal = await env.principals.authenticate(apiKey);
    await expectApp(env.roles.put(notGlobal, 'x-role', writer()), 'FORBIDDEN');
    await expectApp(env.roles.list(notGlobal), 'FORBIDDEN');
    await expectApp(env.principals.drift(notGlobal), 'FORBIDDEN');
    await expectApp(env.roles.put(env.admin, 'Bad Id', writer()), 'BAD_REQUEST', '/id');
    await expectApp(env.roles.put(env.admin, 'r1', { ...writer(), extra: 1 }), 'BAD_REQUEST', '/extra');
    await expectApp(
      env.roles.put(env.admin, 'r1', writer({ system: ['events:write'] })),
      'BAD_REQUEST',
      '/scopes/system/0',
      'INVALID_ROLE_INPUT',
    );
    await expectApp(env.roles.get(env.admin, 'never-made'), 'NOT_FOUND');
    await expectApp(env.roles.list(env.admin, { cursor: 'garbage!' }), 'BAD_REQUEST', '/cursor');
  });
});

describe('effective permissions follow roles', () => {
  it('a role change reaches its holders on their next request; direct scopes add to roles', async () => {
    await env.roles.put(env.admin, 'tenant-reader', writer({ 'tenant-*': ['events:read'] }));
    const key = await agentWith('eff-agent', ['tenant-reader'], { billing: ['export'] });
    let p = await env.principals.authenticate(key);
    expect(p.effectiveScopes).toEqual({ billing: ['export'], 'tenant-*': ['events:read'] });
    expect(hasScope(p, 'tenant-eu', 'events:read')).toBe(true);
    expect(hasScope(p, 'tenant-eu', 'events:write')).toBe(false);
    await env.roles.put(env.admin, 'tenant-reader', writer({ 'tenant-a': ['events:read'] }));
    p = await env.principals.authenticate(key);
    expect(hasScope(p, 'tenant-eu', 'events:read')).toBe(false);
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(true);
    // Another container, with cold caches, sees the same.
    const cold = await env.container().authenticate(key);
    expect(cold.effectiveScopes).toEqual(p.effectiveScopes);
    // Roles are changed on the principal through update, recorded as principal.roles.update.
    const after = await env.principals.update(env.admin, 'eff-agent', { roles: [] });
    expect(after.roles).toEqual([]);
    const recs = (await env.records()).filter((r) => r.event.id === `principal/eff-agent/v${after.version}`);
    expect(recs[0]?.event.action).toBe('principal.roles.update');
    expect(hasScope(await env.principals.authenticate(key), 'tenant-a', 'events:read')).toBe(false);
  });

  it('a role item written around the service grants nothing and is reported', async () => {
    await env.roles.put(env.admin, 'tampered', writer({ 'tenant-a': ['events:read'] }));
    const key = await agentWith('tamper-agent', ['tampered']);
    expect(hasScope(await env.principals.authenticate(key), 'tenant-a', 'events:read')).toBe(true);
    // An insider with the admin role's credentials widens the committed version in place.
    const head = await env.roleStore.get('tampered');
    const cur = head?.current;
    if (!cur) throw new Error('no head');
    const forged = { ...cur, role: { ...cur.role, scopes: { '*': ['admin'] } } };
    await env.ddb.send(
      new PutItemCommand({
        TableName: env.table,
        Item: { pk: S('G#'), sk: S('tampered'), schema: N(1), ver: N(1), cur: S(JSON.stringify(forged)) },
      }),
    );
    const p = await env.principals.authenticate(key);
    expect(p.effectiveScopes).toEqual({});
    expect(hasScope(p, 'tenant-a', 'events:read')).toBe(false);
    expect(env.unbound.map((u) => [u.id, u.reason])).toContainEqual(['tampered', 'audit_mismatch']);
    const report = await env.principals.drift(env.admin);
    expect(report.unboundRoles.map((u) => u.id)).toContain('tampered');
    expect(report.findings.find((f) => f.principalId === 'tamper-agent')?.reasons).toEqual(['missing-role']);
  });

  it('a crash at each step of a role change: not in effect before its record; recovery completes it with one record', async () => {
    const cases: Array<{ step: Step; when: 'before' | 'after' }> = [];
    for (const step of ['stage', 'record', 'promote'] as const)
      for (const when of ['before', 'after'] as const) cases.push({ step, when });
    for (const [i, c] of cases.entries()) {
      const id = `crash-${i}`;
      await env.roles.put(env.admin, id, writer({ 'tenant-a': ['events:read'] }));
      const key = await agentWith(`crash-agent-${i}`, [id]);
      if (c.step === 'record') env.sink.crash = c.when;
      else env.roleStore.crash = c;
      const change = env.roles.put(env.admin, id, writer({ 'tenant-a': ['events:read', 'export'] }));
      const outcome = await change.then(
        () => 'ok',
        () => 'failed',
      );
      expect(outcome, `${c.step} ${c.when}`).toBe('failed');
      const p = await env.principals.authenticate(key);
      const inEffect = hasScope(p, 'tenant-a', 'export');
      // Only a crash after PROMOTE leaves the change in effect (its record is already durable).
      expect(inEffect, `${c.step} ${c.when}: in effect`).toBe(c.step === 'promote' && c.when === 'after');
      const recordedBefore = (await roleRecords(id)).length;
      expect(recordedBefore, `${c.step} ${c.when}: records`).toBe(
        c.step === 'stage' || (c.step === 'record' && c.when === 'before') ? 1 : 2,
      );
      await env.roles.recoverPending();
      const recs = await roleRecords(id);
      const staged = !(c.step === 'stage' && c.when === 'before');
      expect(
        recs.map((r) => r.event.id),
        `${c.step} ${c.when}: after recovery`,
      ).toEqual(staged ? [`role/${id}/v1`, `role/${id}/v2`] : [`role/${id}/v1`]);
      expect(hasScope(await env.principals.authenticate(key), 'tenant-a', 'export')).toBe(staged);
      expect((await env.roleStore.get(id))?.pending).toBeUndefined();
    }
  });
});

describe('the recovery job completes role changes too', () => {
  it('a role change staged before a crash is recorded and promoted by principalsRecoveryJob', async () => {
    await env.roles.put(env.admin, 'job-role', writer({ ops: ['events:read'] }));
    env.roleStore.crash = { step: 'promote', when: 'before' };
    await expect(env.roles.put(env.admin, 'job-role', writer({ ops: ['export'] }))).rejects.toThrow();
    expect((await env.roleStore.get('job-role'))?.pending?.role.version).toBe(2);
    const job = principalsRecoveryJob({
      principals: env.principals,
      rules: { recoverPending: async () => ({ completed: 0, failed: 0 }) } as never,
      roles: env.roles,
      clock: env.clock,
    });
    const [outcome] = await job.run([], env.clock.now() + 60_000);
    expect(outcome).toMatchObject({ ok: true });
    expect((outcome as { completed: number }).completed).toBeGreaterThanOrEqual(1);
    const head = await env.roleStore.get('job-role');
    expect([head?.current?.role.version, head?.pending]).toEqual([2, undefined]);
    expect((await roleRecords('job-role')).map((r) => r.event.id)).toEqual([
      'role/job-role/v1',
      'role/job-role/v2',
    ]);
  });
});

describe('principal metadata', () => {
  it('an agent needs an active human owner and existing roles; only humans have an IdP identity', async () => {
    const base = { name: 'n', purpose: 'p', scopes: {} };
    await expectApp(
      env.principals.create(env.admin, { ...base, kind: 'agent', owner: 'nobody-here' }),
      'BAD_REQUEST',
      '/owner',
      'OWNER_NOT_ACTIVE_HUMAN',
    );
    await agentWith('not-a-human', []);
    await expectApp(
      env.principals.create(env.admin, { ...base, kind: 'application', owner: 'not-a-human' }),
      'BAD_REQUEST',
      '/owner',
      'OWNER_NOT_ACTIVE_HUMAN',
    );
    await expectApp(
      env.principals.create(env.admin, {
        ...base,
        kind: 'agent',
        owner: 'ops-admin',
        roles: ['no-such-role'],
      }),
      'BAD_REQUEST',
      '/roles/0',
      'UNKNOWN_ROLE',
    );
    await expectApp(
      env.principals.create(env.admin, { ...base, kind: 'agent', owner: 'ops-admin', idpIdentity: 'a@b' }),
      'BAD_REQUEST',
      '/idpIdentity',
    );
    const human = await env.principals.create(env.admin, {
      ...base,
      id: 'alice',
      kind: 'human',
      owner: 'Security team',
      idpIdentity: 'alice@example.com',
    });
    expect(human.principal).toMatchObject({
      kind: 'human',
      idpIdentity: 'alice@example.com',
      createdBy: 'ops-admin',
    });
    const upd = await env.principals.update(env.admin, 'alice', { idpIdentity: null });
    expect(upd.idpIdentity).toBeUndefined();
    await expectApp(
      env.principals.update(env.admin, 'not-a-human', { idpIdentity: 'x' }),
      'BAD_REQUEST',
      '/idpIdentity',
    );
    await expectApp(
      env.principals.update(env.admin, 'not-a-human', { owner: 'nobody-here' }),
      'BAD_REQUEST',
      '/owner',
    );
  });

  it('describe: effective scopes, key age and expiry, last use', async () => {
    await env.roles.put(env.admin, 'describe-role', writer({ ops: ['events:read'] }));
    const key = await agentWith('describe-agent', ['describe-role'], { ops: ['export'] });
    const before = await env.principals.describe(env.admin, 'describe-agent');
    expect(before.access).toMatchObject({
      effectiveScopes: { ops: ['events:read', 'export'] },
      directScopes: true,
      keyAgeDays: 0,
      keyExpired: false,
    });
    expect(before.access.lastUsedAt).toBeUndefined();
    expect(Date.parse(before.access.keyExpiresAt ?? '') - Date.parse(before.access.keyIssuedAt)).toBe(
      30 * DAY,
    );
    await env.principals.authenticate(key);
    const after = await env.principals.describe(env.admin, 'describe-agent');
    expect(after.access.lastUsedAt).toBeDefined();
    const listed = await env.principals.listWithAccess(env.admin, { limit: 100 });
    expect(listed.access['describe-agent']?.effectiveScopes).toEqual(after.access.effectiveScopes);
  });
  it('principals created before the new fields (no roles, free-text owner) keep working', async () => {
    // Written as an older version stored it: through the service, then stripped of nothing new.
    const key = await agentWith('legacy-shaped', [], { ops: ['events:read'] });
    const p = await env.principals.authenticate(key);
    expect(p.roles).toBeUndefined();
    expect(p.effectiveScopes).toEqual({ ops: ['events:read'] });
  });
});

describe('last use: at most one write per principal per hour', () => {
  it('many requests, several containers: one write an hour; none on most requests', async () => {
    const key = await agentWith('busy-agent', [], { ops: ['events:write'] });
    const store = env.principalStore;
    const containers = [env.principals, env.container(), env.container()];
    const attempts0 = store.useAttempts;
    const writes0 = store.useWrites;
    const start = env.clock.t;
    for (let i = 0; i < 60; i++) await (containers[i % 3] as (typeof containers)[number]).authenticate(key);
    // Within the hour: one write in all, at most one attempt per container.
    expect(store.useWrites - writes0).toBe(1);
    expect(store.useAttempts - attempts0).toBeLessThanOrEqual(3);
    const first = (await store.lastUsed(['busy-agent'])).get('busy-agent');
    // An hour later: exactly one more write, the value moves forward.
    env.clock.t = start + 3_600_000 + 10;
    for (let i = 0; i < 30; i++) await (containers[i % 3] as (typeof containers)[number]).authenticate(key);
    expect(store.useWrites - writes0).toBe(2);
    expect(store.useAttempts - attempts0).toBeLessThanOrEqual(6);
    const second = (await store.lastUsed(['busy-agent'])).get('busy-agent');
    expect(second && first && second > first).toBe(true);
    env.clock.t = start;
  });

  it('a failing last-use write never fails the request', async () => {
    const key = await agentWith('use-fails', [], { ops: ['events:read'] });
    const failures: string[] = [];
    const broken = new (await import('../../src/app/principals.ts')).PrincipalService({
      store: {
        ...env.principalStore,
        get: (id: string) => env.principalStore.get(id),
        put: (...a: Parameters<typeof env.principalStore.put>) => env.principalStore.put(...a),
        list: (o: { limit: number }) => env.principalStore.list(o),
        lastUsed: (ids: readonly string[]) => env.principalStore.lastUsed(ids),
        recordUse: async () => {
          throw new Error('throttled');
        },
      },
      clock: env.clock,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      audit: env.sink,
      auditLog: env.auditLog,
      onUseRecordFailure: (id) => failures.push(id),
    });
    const p: Principal = await broken.authenticate(key);
    expect(p.id).toBe('use-fails');
    expect(failures).toEqual(['use-fails']);
  });
});

describe('drift', () => {
  it('reports direct grants beyond roles, redundant direct grants and legacy principals; not role-only ones', async () => {
    await env.roles.put(env.admin, 'drift-role', writer({ 'drift-log': ['events:write'] }));
    await agentWith('drift-clean', ['drift-role']);
    await agentWith('drift-extra', ['drift-role'], { 'drift-log': ['export'] });
    await agentWith('drift-redundant', ['drift-role'], { 'drift-log': ['events:write'] });
    await agentWith('drift-legacy', [], { 'drift-log': ['events:read'] });
    const report = await env.principals.drift(env.admin);
    const by = new Map(report.findings.map((f) => [f.principalId, f]));
    expect(by.has('drift-clean')).toBe(false);
    expect(by.get('drift-extra')).toMatchObject({
      reasons: ['direct-grants'],
      beyondRoles: { 'drift-log': ['export'] },
      roles: ['drift-role'],
    });
    expect(by.get('drift-redundant')?.reasons).toEqual(['redundant-direct']);
    expect(by.get('drift-legacy')?.reasons).toEqual(['direct-grants']);
    // The bootstrap admin holds `admin` on `*` directly: reported too.
    expect(by.get('ops-admin')?.reasons).toEqual(['direct-grants']);
    expect(report.principals).toBeGreaterThanOrEqual(5);
    // A revoked principal has no permissions at all, so it never drifts.
    await env.principals.revoke(env.admin, 'drift-extra');
    expect((await env.principals.drift(env.admin)).findings.map((f) => f.principalId)).not.toContain(
      'drift-extra',
    );
  });
});

describe('key expiry', () => {
  it('a key past its kind’s maximum age is refused with KEY_EXPIRED until rotated', async () => {
    const key = await agentWith('expiring-agent', [], { ops: ['events:read'] });
    const t0 = env.clock.t;
    env.clock.t = t0 + 30 * DAY - 1000; // still inside 30 days
    await env.principals.authenticate(key);
    env.clock.t = t0 + 30 * DAY + 1000;
    const err = await env.principals.authenticate(key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KeyExpiredError);
    expect((err as AppError).code).toBe('KEY_EXPIRED');
    expect((err as AppError).message).toMatch(/expired at .*rotate/);
    // A wrong secret for the same principal stays the generic UNAUTHENTICATED.
    await expectApp(env.principals.authenticate(`${key.slice(0, -4)}AAAA`), 'UNAUTHENTICATED');
    // The admin (human, 90 days) is still fine; rotating the agent's key restarts its age.
    const admin = await env.principals.authenticate(env.adminKey);
    const { apiKey } = await env.principals.rotate(admin, 'expiring-agent');
    expect((await env.principals.authenticate(apiKey)).id).toBe('expiring-agent');
    const d = await env.principals.describe(admin, 'expiring-agent');
    expect(d.access.keyExpired).toBe(false);
    // The clock stays ahead: the rotation's record is at +30 days, so this describe runs last.
  });
});
