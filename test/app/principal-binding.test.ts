/**
 * Authentication accepts only principal versions bound to their record in the
 * `system` log (issue #11: an insider with the admin role's credentials can
 * PutItem `P#<id>` directly, bypassing stage → record → promote). The
 * insider is played by writing through DynamoPrincipalStore directly, which
 * is what those credentials allow.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import {
  type AdminAuditEvent,
  AuthenticationError,
  type PrincipalService,
} from '../../src/app/principals.ts';
import { issueApiKey, type Principal } from '../../src/core/principal.ts';
import type { PrincipalState } from '../../src/ports/principal-store.ts';
import { awsClientConfig } from '../support/aws.ts';
import type { AdminEnv } from './admin-harness.ts';
import { adminEnvOnMoto } from './admin-moto.ts';

let env: AdminEnv;
let admin: Principal;
let adminKey: string;
/** DynamoDB operations sent on env.ddb, in order (an SDK middleware: it observes, it does not answer). */
const sent: string[] = [];

beforeAll(async () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countOperations' },
  );
  env = await adminEnvOnMoto('principal-binding', ddb);
  const boot = await env.principals.bootstrapAdmin({
    id: 'ops-admin',
    name: 'Ops',
    owner: 'secops@example.com',
  });
  admin = boot.principal;
  adminKey = boot.apiKey ?? '';
});

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** What `authenticate` gives: 'accepted', or the AppError code plus, for 401s, the server-side reason. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) =>
      e instanceof AuthenticationError ? `${e.code}:${e.reason}` : e instanceof AppError ? e.code : String(e),
  );

const agent = (id: string, scopes: Record<string, string[]> = { 'tenant-a': ['events:write'] }) => ({
  id,
  name: id,
  kind: 'agent',
  owner: 'ops-admin',
  purpose: 'test principal',
  scopes,
});

/** Replaces the committed state of `id` as one PutItem (CAS on the stored revision). */
async function overwrite(id: string, edit: (cur: PrincipalState) => PrincipalState): Promise<void> {
  const entry = await env.store.get(id);
  if (!entry?.current) throw new Error(`no committed state for ${id}`);
  await env.store.put({ id, current: edit(entry.current) }, entry.rev);
}

describe('principal items written outside PrincipalService are refused', () => {
  it('a global admin minted by one PutItem, with no system-log record', async () => {
    const key = issueApiKey('shadow-admin', random);
    const now = '2026-03-01T12:00:00.000Z';
    const shadow: Principal = {
      id: 'shadow-admin',
      name: 'Backup job',
      kind: 'application',
      owner: 'ops-admin',
      purpose: 'nightly backup',
      scopes: { '*': ['admin'] },
      status: 'active',
      keyId: key.keyId,
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: admin.id,
    };
    await env.store.put(
      { id: 'shadow-admin', current: { principal: shadow, secretHash: key.secretHash } },
      0,
    );
    expect((await env.records()).filter((r) => r.event.target?.id === 'shadow-admin')).toEqual([]);
    // Old code: 'accepted' (a working global admin the system log knows nothing of).
    expect(await outcome(env.principals.authenticate(`Bearer ${key.apiKey}`))).toBe(
      'UNAUTHENTICATED:unaudited',
    );
    expect(env.bindingFailures.at(-1)).toMatchObject({
      reason: 'unaudited',
      principalId: 'shadow-admin',
      version: 1,
    });

    // Pointing it at a genuine record (the bootstrap's) does not help.
    const genuine = (await env.store.get(admin.id))?.current?.recorded;
    expect(genuine).toBeDefined();
    await overwrite('shadow-admin', (cur) => ({ ...cur, ...(genuine ? { recorded: genuine } : {}) }));
    expect(await outcome(env.principals.authenticate(key.apiKey))).toBe('UNAUTHENTICATED:audit_mismatch');
  });

  it('a revoked principal put back to active by one PutItem', async () => {
    const created = await env.principals.create(admin, agent('leaky-agent'));
    await env.principals.revoke(admin, 'leaky-agent');
    const last = (await env.records()).filter((r) => r.event.target?.id === 'leaky-agent').at(-1);
    expect(last?.event.action).toBe('principal.revoke');
    await overwrite('leaky-agent', (cur) => {
      const { revokedAt: _r, ...rest } = cur.principal;
      return { ...cur, principal: { ...rest, status: 'active' } };
    });
    // Old code: 'accepted' while the system log's last word on leaky-agent is principal.revoke.
    expect(await outcome(env.principals.authenticate(`Bearer ${created.apiKey}`))).toBe(
      'UNAUTHENTICATED:audit_mismatch',
    );
  });

  it('a revoked principal rolled back to its earlier, genuinely recorded version', async () => {
    const created = await env.principals.create(admin, agent('rollback-agent'));
    expect(await outcome(env.principals.authenticate(created.apiKey))).toBe('accepted');
    const v1 = (await env.store.get('rollback-agent'))?.current;
    if (!v1) throw new Error('no entry');
    await env.principals.revoke(admin, 'rollback-agent');
    expect(await outcome(env.principals.authenticate(created.apiKey))).toBe('UNAUTHENTICATED:revoked');
    await overwrite('rollback-agent', () => v1); // v1 exactly as recorded then
    // Old code: 'accepted'. Refused both here (this container saw the revocation) and in a cold one.
    expect(await outcome(env.principals.authenticate(created.apiKey))).toBe('UNAUTHENTICATED:superseded');
    expect(await outcome(env.coldPrincipals().authenticate(created.apiKey))).toBe(
      'UNAUTHENTICATED:superseded',
    );
  });

  it('scopes widened in place on a principal that authenticated before (and is cached)', async () => {
    const created = await env.principals.create(admin, agent('widened-agent'));
    expect(await outcome(env.principals.authenticate(created.apiKey))).toBe('accepted');
    await overwrite('widened-agent', (cur) => ({
      ...cur,
      principal: { ...cur.principal, scopes: { '*': ['admin'] } },
    }));
    // Old code: 'accepted' as a global admin.
    expect(await outcome(env.principals.authenticate(created.apiKey))).toBe('UNAUTHENTICATED:audit_mismatch');
  });

  it("the admin's key hash swapped for the insider's, everything else kept", async () => {
    const before = (await env.store.get(admin.id))?.current;
    if (!before) throw new Error('no entry');
    const insider = issueApiKey(admin.id, random);
    await overwrite(admin.id, (cur) => ({ ...cur, secretHash: insider.secretHash }));
    try {
      // Old code: 'accepted' — the insider now holds a working global-admin key.
      expect(await outcome(env.principals.authenticate(insider.apiKey))).toBe(
        'UNAUTHENTICATED:audit_mismatch',
      );
    } finally {
      await overwrite(admin.id, () => before);
    }
    expect(await outcome(env.principals.authenticate(adminKey))).toBe('accepted');
  });
});

describe('the binding cache', () => {
  it('one GetItem per request once a version is verified; each new version is verified once', async () => {
    const created = await env.principals.create(admin, agent('steady-agent'));
    const svc: PrincipalService = env.coldPrincipals();
    sent.length = 0;
    expect(await outcome(svc.authenticate(created.apiKey))).toBe('accepted');
    // The principal item, then the record's batch and the successor's event-id item (in either order),
    // then the last-use write (this container's first use of the principal this hour; docs/access.md).
    expect(sent[0]).toBe('GetItem');
    expect(sent.slice(1, 3).sort()).toEqual(['BatchGetItem', 'GetItem']);
    expect(sent.slice(3)).toEqual(['UpdateItem']);
    sent.length = 0;
    for (let i = 0; i < 3; i++) expect(await outcome(svc.authenticate(created.apiKey))).toBe('accepted');
    expect(sent).toEqual(['GetItem', 'GetItem', 'GetItem']);

    const rotated = await env.principals.rotate(admin, 'steady-agent');
    sent.length = 0;
    expect(await outcome(svc.authenticate(created.apiKey))).toBe('UNAUTHENTICATED:wrong_secret');
    expect(await outcome(svc.authenticate(rotated.apiKey))).toBe('accepted');
    expect(await outcome(svc.authenticate(rotated.apiKey))).toBe('accepted');
    // Old key: the item only. New key: the item, then the new version's check, once; then the item only.
    expect(sent).toHaveLength(5);
    expect([sent[0], sent[1], sent[4]]).toEqual(['GetItem', 'GetItem', 'GetItem']);
    expect([sent[2], sent[3]].sort()).toEqual(['BatchGetItem', 'GetItem']);
  });

  it('bounds the rollback window: a container that never saw the revocation trusts its entry only until the TTL', async () => {
    const created = await env.principals.create(admin, agent('window-agent'));
    const svc = env.coldPrincipals();
    expect(await outcome(svc.authenticate(created.apiKey))).toBe('accepted');
    const v1 = (await env.store.get('window-agent'))?.current;
    if (!v1) throw new Error('no entry');
    await env.principals.revoke(admin, 'window-agent');
    await overwrite('window-agent', () => v1);
    // The documented window (docs/architecture.md): svc verified exactly these bytes moments ago.
    expect(await outcome(svc.authenticate(created.apiKey))).toBe('accepted');
    env.clock.t += 60_000;
    expect(await outcome(svc.authenticate(created.apiKey))).toBe('UNAUTHENTICATED:superseded');
  });
});

describe('principals committed before bindings existed (bindLegacy)', () => {
  let old: AdminEnv;
  const at = '2026-02-01T00:00:00.000Z';

  /** What the previous version wrote: the record (no key commitment) and an item without a position. */
  async function legacy(id: string, scopes: Principal['scopes'], pendingScopes?: Principal['scopes']) {
    const key = issueApiKey(id, random);
    const v1: Principal = {
      ...{ id, name: id, kind: 'agent', owner: 'o', purpose: 'legacy', scopes, status: 'active' },
      ...{ keyId: key.keyId, version: 1, createdAt: at, updatedAt: at, createdBy: 'legacy-admin' },
    };
    const event = (p: Principal, action: AdminAuditEvent['action'], before: Principal | undefined) => ({
      id: `principal/${id}/v${p.version}`,
      occurredAt: at,
      actor: { type: 'human' as const, id: 'legacy-admin', name: 'Ops' },
      action,
      target: { type: 'principal' as const, id, name: id },
      outcome: 'success' as const,
      changes: { before: before ? { ...before } : {}, after: { ...p } },
    });
    await old.sink.record(event(v1, 'principal.create', undefined));
    await old.store.put({ id, current: { principal: v1, secretHash: key.secretHash } }, 0);
    if (pendingScopes) {
      // Staged by the previous version, never promoted (its record may or may not exist).
      const v2 = { ...v1, scopes: pendingScopes, version: 2 };
      const pending = {
        state: { principal: v2, secretHash: key.secretHash },
        audit: event(v2, 'principal.scopes.update', v1),
      };
      await old.store.put({ id, current: { principal: v1, secretHash: key.secretHash }, pending }, 1);
    }
    return key.apiKey;
  }

  beforeAll(async () => {
    old = await adminEnvOnMoto('principal-binding-legacy');
  });

  it('are refused until the audited migration binds them; a state the log does not show stays refused', async () => {
    const adminKey = await legacy('legacy-admin', { '*': ['admin'] });
    const okKey = await legacy('legacy-ok', { 'tenant-a': ['events:write'] });
    const stagedKey = await legacy(
      'legacy-staged',
      { 'tenant-a': ['events:write'] },
      { 'tenant-b': ['export'] },
    );
    const editedKey = await legacy('legacy-edited', { 'tenant-a': ['events:read'] });
    await old.store.put(
      {
        id: 'legacy-edited',
        current: await (async () => {
          const cur = (await old.store.get('legacy-edited'))?.current;
          if (!cur) throw new Error('no entry');
          return { ...cur, principal: { ...cur.principal, scopes: { '*': ['events:read'] } } };
        })(),
      },
      1,
    );
    // A principal created by this version, whose key hash an insider then swapped.
    const boot = await old.principals.bootstrapAdmin({ id: 'new-admin', name: 'Ops', owner: 'o' });
    const swapped = issueApiKey('new-admin', random);
    const entry = await old.store.get('new-admin');
    if (!entry?.current) throw new Error('no entry');
    await old.store.put(
      { id: 'new-admin', current: { ...entry.current, secretHash: swapped.secretHash } },
      entry.rev,
    );

    const svc = old.coldPrincipals();
    expect(await outcome(svc.authenticate(adminKey))).toBe('UNAUTHENTICATED:unaudited');
    expect(await outcome(svc.authenticate(okKey))).toBe('UNAUTHENTICATED:unaudited');

    const first = await svc.bindLegacy();
    expect(first.bound.sort()).toEqual(['legacy-admin', 'legacy-ok', 'legacy-staged']);
    expect(first.refused).toEqual([
      { id: 'legacy-edited', why: expect.stringMatching(/differs from what the system log records/) },
      { id: 'new-admin', why: expect.stringMatching(/key commitment/) },
    ]);
    expect(await svc.bindLegacy()).toEqual({ bound: [], refused: first.refused }); // idempotent

    expect(await outcome(svc.authenticate(adminKey))).toBe('accepted');
    expect(await outcome(svc.authenticate(okKey))).toBe('accepted');
    const staged = await svc.authenticate(stagedKey);
    expect([staged.version, staged.scopes]).toEqual([3, { 'tenant-b': ['export'] }]);
    expect(await outcome(svc.authenticate(editedKey))).toBe('UNAUTHENTICATED:unaudited');
    expect(await outcome(svc.authenticate(swapped.apiKey))).toBe('UNAUTHENTICATED:audit_mismatch');
    expect(boot.apiKey).toBeDefined();
    const binds = (await old.records()).filter((r) => r.event.action === 'principal.bind');
    expect(binds.map((r) => [r.event.id, r.submitter, r.event.metadata?.attests])).toEqual([
      ['principal/legacy-admin/v2', 'system:bind', 'principal/legacy-admin/v1'],
      ['principal/legacy-ok/v2', 'system:bind', 'principal/legacy-ok/v1'],
      ['principal/legacy-staged/v3', 'system:bind', 'principal/legacy-staged/v2'],
    ]);
  });
});
