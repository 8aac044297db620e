import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { AppError } from '../../src/app/errors.ts';
import {
  type AdminAuditEvent,
  type AdminAuditLog,
  type AdminAuditSink,
  AuthenticationError,
  apiKeyFromHeaders,
  PrincipalService,
} from '../../src/app/principals.ts';
import { fromBase64Url, toBase64, toHex } from '../../src/core/bytes.ts';
import { type AuditEvent, validateEvent } from '../../src/core/event.ts';
import { sha256 } from '../../src/core/hash.ts';
import { keyCommitment, type Principal } from '../../src/core/principal.ts';
import type { AuditPosition, PrincipalEntry, PrincipalStore } from '../../src/ports/principal-store.ts';

/**
 * The audit sink's contract (AdminAuditSink, AdminAuditLog in
 * src/app/principals.ts), kept as simple as it states it, one record per
 * batch: idempotent on event id, readable back, with fault hooks on exactly
 * the `record` call — `failNext` fails without persisting, `failAfterNext`
 * persists and then fails (a timeout after a successful write). `events` is
 * the log since the last `mark()` (records are never removed: authentication
 * reads them back). The deployed sink, SystemLogAuditSink over the ingest
 * path, is what test/app/principal-binding.test.ts and
 * system-log-reserved.test.ts drive.
 */
class MemoryAuditSink implements AdminAuditSink, AdminAuditLog {
  readonly #log: AdminAuditEvent[] = [];
  #from = 0;
  get events(): readonly AdminAuditEvent[] {
    return this.#log.slice(this.#from);
  }
  mark(): void {
    this.#from = this.#log.length;
  }
  failNext = 0;
  failAfterNext = 0;
  async record(event: AdminAuditEvent): Promise<AuditPosition> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new AppError('UNAVAILABLE', 'system log down', { retryAfterSeconds: 3 });
    }
    let index = this.#log.findIndex((e) => e.id === event.id);
    if (index >= 0) {
      if (JSON.stringify(this.#log[index]) !== JSON.stringify(event))
        throw new AppError('CONFLICT', 'id reused');
    } else {
      index = this.#log.push(structuredClone(event)) - 1;
    }
    if (this.failAfterNext > 0) {
      this.failAfterNext--;
      throw new Error('socket hang up');
    }
    return { seq: index + 1, index };
  }
  async find(eventId: string): Promise<AuditPosition | undefined> {
    const index = this.#log.findIndex((e) => e.id === eventId);
    return index < 0 ? undefined : { seq: index + 1, index };
  }
  reads = 0;
  async read(at: AuditPosition): Promise<AuditEvent | undefined> {
    this.reads++;
    const event = at.seq === at.index + 1 ? this.#log[at.index] : undefined;
    return event && validateEvent(JSON.parse(JSON.stringify(event)));
  }
}

/** Wraps a store with test seams: crash before a chosen put, hold gets at a barrier. */
class SeamStore implements PrincipalStore {
  crashOnPut: ((entry: Omit<PrincipalEntry, 'rev'>) => boolean) | undefined;
  barrier: { waiting: number; size: number; release?: () => void; gate?: Promise<void> } | undefined;
  constructor(readonly inner: PrincipalStore) {}
  async get(id: string) {
    const entry = await this.inner.get(id);
    const b = this.barrier;
    if (b) {
      b.gate ??= new Promise<void>((r) => {
        b.release = r;
      });
      b.waiting++;
      if (b.waiting >= b.size) b.release?.();
      await b.gate;
    }
    return entry;
  }
  put(entry: Omit<PrincipalEntry, 'rev'>, expectedRev: number): Promise<number> {
    if (this.crashOnPut?.(entry)) {
      this.crashOnPut = undefined;
      return Promise.reject(new Error('simulated crash before the write'));
    }
    return this.inner.put(entry, expectedRev);
  }
  list(opts: { cursor?: string; limit: number }) {
    return this.inner.list(opts);
  }
  recordUse(id: string, at: string, ifLastBefore: string) {
    return this.inner.recordUse(id, at, ifLastBefore);
  }
  lastUsed(ids: readonly string[]) {
    return this.inner.lastUsed(ids);
  }
}

let store: SeamStore;
let audit: MemoryAuditSink;
let svc: PrincipalService;
let clockMs: number;
let admin: Principal;
let adminKey: string;

beforeEach(async () => {
  // A fresh store per test keeps tests independent within the file.
  store = new SeamStore(new MemoryPrincipalStore());
  audit = new MemoryAuditSink();
  clockMs = Date.parse('2026-03-01T12:00:00.000Z');
  svc = new PrincipalService({
    store,
    clock: { now: () => clockMs },
    random: (n) => new Uint8Array(randomBytes(n)),
    audit,
    auditLog: audit,
  });
  const boot = await svc.bootstrapAdmin({ id: 'root-admin', name: 'Root', owner: 'sec-team@example.com' });
  if (!boot.apiKey) throw new Error('bootstrap returned no key');
  admin = boot.principal;
  adminKey = boot.apiKey;
  audit.mark();
});

const agentInput = (scopes: Record<string, string[]> = { 'tenant-a': ['events:write'] }) => ({
  name: 'Billing agent',
  kind: 'agent',
  owner: 'root-admin',
  purpose: 'writes tool-call audit events',
  scopes,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

async function expectCode(p: Promise<unknown>, code: string): Promise<AppError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

async function expectAuthFails(key: string | undefined, reason: string) {
  const err = await rejection(svc.authenticate(key));
  expect(err).toBeInstanceOf(AuthenticationError);
  expect((err as AuthenticationError).code).toBe('UNAUTHENTICATED');
  expect((err as AuthenticationError).message).toBe('missing or invalid API key');
  expect((err as AuthenticationError).reason).toBe(reason);
}

/** Every audit event is a valid Event v1 and carries no secret material. */
function checkEvents(secrets: string[]) {
  for (const e of audit.events) {
    expect(() => validateEvent(JSON.parse(JSON.stringify(e)))).not.toThrow();
    const text = JSON.stringify(e);
    for (const key of secrets) {
      const secretB64u = key.slice(-43);
      const secret = fromBase64Url(secretB64u);
      expect(text).not.toContain(secretB64u);
      expect(text).not.toContain(toHex(secret));
      expect(text).not.toContain(toBase64(secret));
    }
    expect(text).not.toMatch(/secretHash|curHash|pendHash/);
  }
}

describe('bootstrapAdmin', () => {
  it('creates a global admin once and returns its key only then', async () => {
    expect(admin.scopes).toEqual({ '*': ['admin'] });
    expect(admin.createdBy).toBe('system:bootstrap');
    expect((await svc.authenticate(`Bearer ${adminKey}`)).id).toBe('root-admin');
    const again = await svc.bootstrapAdmin({ id: 'root-admin', name: 'Root', owner: 'sec-team@example.com' });
    expect(again.apiKey).toBeUndefined();
    expect(again.principal).toEqual(admin);
    expect(audit.events).toHaveLength(0);
  });

  it('records the bootstrap as a system-actor create', async () => {
    const b = await svc.bootstrapAdmin({ id: 'second-root', name: 'Root 2', owner: 'o' });
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]?.actor).toEqual({ type: 'system', id: 'system:bootstrap', name: 'bootstrap' });
    expect(audit.events[0]?.action).toBe('principal.create');
    checkEvents([b.apiKey ?? '']);
  });

  it('refuses an existing id that is not an active global admin', async () => {
    await svc.create(admin, { ...agentInput(), id: 'not-admin' });
    await expectCode(svc.bootstrapAdmin({ id: 'not-admin', name: 'x', owner: 'y' }), 'CONFLICT');
  });

  it('completes a bootstrap that crashed after staging, with a usable key', async () => {
    store.crashOnPut = (e) => e.id === 'crashy-root' && e.current !== undefined; // die before PROMOTE
    await rejection(svc.bootstrapAdmin({ id: 'crashy-root', name: 'R', owner: 'o' }));
    const b = await svc.bootstrapAdmin({ id: 'crashy-root', name: 'R', owner: 'o' });
    expect(b.apiKey).toBeDefined();
    expect((await svc.authenticate(b.apiKey)).id).toBe('crashy-root');
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.rotate']);
  });
});

describe('authenticate', () => {
  it('accepts a bare key and a Bearer header', async () => {
    expect((await svc.authenticate(adminKey)).id).toBe('root-admin');
    expect((await svc.authenticate(`bearer   ${adminKey}`)).id).toBe('root-admin');
    expect((await svc.authenticate(`  ${adminKey}  `)).id).toBe('root-admin');
  });

  it('refuses wrong, malformed and foreign credentials with one message', async () => {
    const other = await svc.create(admin, agentInput());
    const otherSecret = other.apiKey.slice(-43);
    const flipped = `${adminKey.slice(0, -2)}${adminKey.at(-2) === 'A' ? 'B' : 'A'}${adminKey.at(-1)}`;
    await expectAuthFails(undefined, 'missing');
    await expectAuthFails('', 'missing');
    await expectAuthFails('   ', 'missing');
    await expectAuthFails('garbage', 'malformed');
    await expectAuthFails('x'.repeat(1_000_000), 'malformed');
    await expectAuthFails(`${adminKey.slice(0, -1)}ü`, 'malformed');
    await expectAuthFails('ключ_доступа', 'malformed');
    await expectAuthFails(adminKey.replace('alk_', 'sk_'), 'malformed');
    await expectAuthFails(`Basic ${adminKey}`, 'malformed');
    await expectAuthFails(`Bearer ${adminKey} extra`, 'malformed');
    await expectAuthFails(`Bearer`, 'malformed');
    await expectAuthFails(flipped, 'wrong_secret');
    await expectAuthFails(`alk_root-admin_${otherSecret}`, 'wrong_secret');
    await expectAuthFails(`alk_${other.principal.id}_${adminKey.slice(-43)}`, 'wrong_secret');
    await expectAuthFails(`alk_nobody-here_${otherSecret}`, 'unknown');
  });

  it('picks the key from headers; two different keys are ambiguous', async () => {
    expect(apiKeyFromHeaders({})).toBeUndefined();
    expect(apiKeyFromHeaders({ 'X-Api-Key': adminKey })).toBe(adminKey);
    expect(apiKeyFromHeaders({ authorization: `Bearer ${adminKey}` })).toBe(`Bearer ${adminKey}`);
    expect(apiKeyFromHeaders({ Authorization: `Bearer ${adminKey}`, 'x-api-key': adminKey })).toBe(adminKey);
    expect(() =>
      apiKeyFromHeaders({ authorization: `Bearer ${adminKey}`, 'x-api-key': 'alk_other' }),
    ).toThrow(AuthenticationError);
    expect(() => apiKeyFromHeaders({ 'x-api-key': [adminKey, adminKey] })).toThrow(AuthenticationError);
    const viaHeader = apiKeyFromHeaders({ authorization: `Bearer ${adminKey}` });
    expect((await svc.authenticate(viaHeader)).id).toBe('root-admin');
  });
});

describe('binding cache', () => {
  it('holds at most bindingCacheSize principals and re-verifies after the TTL', async () => {
    const small = new PrincipalService({
      store,
      clock: { now: () => clockMs },
      random: (n) => new Uint8Array(randomBytes(n)),
      audit,
      auditLog: audit,
      bindingCacheSize: 1,
      bindingTtlMs: 1000,
    });
    const other = await svc.create(admin, agentInput());
    const reads = async (key: string) => {
      const before = audit.reads;
      await small.authenticate(key);
      return audit.reads - before;
    };
    expect(await reads(adminKey)).toBe(1);
    expect(await reads(adminKey)).toBe(0);
    expect(await reads(other.apiKey)).toBe(1); // evicts the admin's entry
    expect(await reads(adminKey)).toBe(1);
    clockMs += 999;
    expect(await reads(adminKey)).toBe(0);
    clockMs += 1;
    expect(await reads(adminKey)).toBe(1);
  });

  it('every principal event commits to the key of its version', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    const rotated = await svc.rotate(admin, principal.id);
    const [created, rotation] = audit.events;
    const hashOf = (key: string) => sha256(fromBase64Url(key.slice(-43)));
    expect(created?.metadata?.keyCommitment).toBe(keyCommitment(hashOf(apiKey)));
    expect(rotation?.metadata?.keyCommitment).toBe(keyCommitment(hashOf(rotated.apiKey)));
  });
});

describe('authorize', () => {
  it('checks scopes per log and on *', async () => {
    const { principal: writer } = await svc.create(admin, agentInput({ 'tenant-a': ['events:write'] }));
    const { principal: reader } = await svc.create(
      admin,
      agentInput({ '*': ['events:read', 'proofs:read'] }),
    );
    svc.authorize(writer, 'tenant-a', 'events:write');
    const err = (() => {
      try {
        svc.authorize(writer, 'tenant-b', 'events:write');
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe('FORBIDDEN');
    expect(err?.message).toContain('events:write');
    expect(err?.message).toContain('tenant-b');
    expect(() => svc.authorize(writer, 'tenant-a', 'events:read')).toThrow(/events:read/);
    svc.authorize(reader, 'tenant-z', 'proofs:read');
    expect(() => svc.authorize(reader, 'tenant-z', 'export')).toThrow(AppError);
    svc.authorize(admin, 'anything', 'export');
  });

  it('admin use cases need admin on *', async () => {
    const { principal: logAdmin } = await svc.create(admin, agentInput({ 'tenant-a': ['admin'] }));
    await expectCode(svc.create(logAdmin, agentInput()), 'FORBIDDEN');
    await expectCode(svc.list(logAdmin), 'FORBIDDEN');
    await expectCode(svc.get(logAdmin, 'root-admin'), 'FORBIDDEN');
    await expectCode(svc.rotate(logAdmin, 'root-admin'), 'FORBIDDEN');
    await expectCode(svc.revoke(logAdmin, 'root-admin'), 'FORBIDDEN');
    await expectCode(svc.updateScopes(logAdmin, logAdmin.id, { '*': ['admin'] }), 'FORBIDDEN');
    expect(audit.events).toHaveLength(1); // only the create of logAdmin
  });
});

describe('admin use cases', () => {
  it('create returns the key once and records one event with before {} and after', async () => {
    clockMs += 1000;
    const { principal, apiKey } = await svc.create(admin, agentInput(), { requestId: 'req-1' });
    expect(principal).toMatchObject({
      kind: 'agent',
      status: 'active',
      version: 1,
      createdBy: 'root-admin',
      createdAt: '2026-03-01T12:00:01.000Z',
      scopes: { 'tenant-a': ['events:write'] },
    });
    expect(principal.id).toMatch(/^p_[0-9a-f]{32}$/);
    expect(apiKey.startsWith(`alk_${principal.id}_`)).toBe(true);
    // Authentication adds the runtime-only effective scopes (no roles here: the direct ones).
    expect(await svc.authenticate(apiKey)).toEqual({ ...principal, effectiveScopes: principal.scopes });
    expect(await svc.get(admin, principal.id)).toEqual(principal);
    expect(JSON.stringify(await svc.get(admin, principal.id))).not.toContain(apiKey.slice(-43));
    expect(audit.events).toHaveLength(1);
    const e = audit.events[0] as AdminAuditEvent;
    expect(e).toMatchObject({
      id: `principal/${principal.id}/v1`,
      action: 'principal.create',
      actor: { type: 'human', id: 'root-admin', name: 'Root' },
      target: { type: 'principal', id: principal.id, name: 'Billing agent' },
      outcome: 'success',
      occurredAt: '2026-03-01T12:00:01.000Z',
      context: { requestId: 'req-1' },
    });
    expect(e.changes).toEqual({ before: {}, after: JSON.parse(JSON.stringify(principal)) });
    checkEvents([apiKey, adminKey]);
  });

  it('create with a chosen id; duplicate id → CONFLICT; bad input → BAD_REQUEST with path', async () => {
    await svc.create(admin, { ...agentInput(), id: 'billing-agent' });
    await expectCode(svc.create(admin, { ...agentInput(), id: 'billing-agent' }), 'CONFLICT');
    const bad = await expectCode(
      svc.create(admin, agentInput({ 'tenant-a': ['events:delete'] })),
      'BAD_REQUEST',
    );
    expect(bad.path).toBe('/scopes/tenant-a/0');
    expect(audit.events).toHaveLength(1);
  });

  it('rotate: the old key dies immediately, the new one works, keyId changes in the record', async () => {
    const { principal, apiKey: oldKey } = await svc.create(admin, agentInput());
    clockMs += 5000;
    const rotated = await svc.rotate(admin, principal.id);
    await expectAuthFails(oldKey, 'wrong_secret');
    expect((await svc.authenticate(rotated.apiKey)).id).toBe(principal.id);
    expect(rotated.principal.version).toBe(2);
    expect(rotated.principal.keyId).not.toBe(principal.keyId);
    expect(rotated.principal.rotatedAt).toBe('2026-03-01T12:00:05.000Z');
    expect(audit.events).toHaveLength(2);
    const e = audit.events[1] as AdminAuditEvent;
    expect(e.action).toBe('principal.rotate');
    expect(e.id).toBe(`principal/${principal.id}/v2`);
    expect(e.changes.before).toEqual(JSON.parse(JSON.stringify(principal)));
    expect(e.changes.after).toEqual(JSON.parse(JSON.stringify(rotated.principal)));
    checkEvents([oldKey, rotated.apiKey]);
  });

  it('revoke takes effect on the very next authenticate; is idempotent; revoked cannot rotate', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    expect((await svc.authenticate(apiKey)).id).toBe(principal.id);
    const revoked = await svc.revoke(admin, principal.id);
    await expectAuthFails(apiKey, 'revoked');
    expect(revoked).toMatchObject({ status: 'revoked', version: 2, revokedAt: '2026-03-01T12:00:00.000Z' });
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.revoke']);
    expect(audit.events[1]?.changes.before).toMatchObject({ status: 'active' });
    expect(audit.events[1]?.changes.after).toMatchObject({ status: 'revoked' });
    expect(await svc.revoke(admin, principal.id)).toEqual(revoked);
    expect(audit.events).toHaveLength(2);
    await expectCode(svc.rotate(admin, principal.id), 'CONFLICT');
    await expectCode(svc.updateScopes(admin, principal.id, { x: ['export'] }), 'CONFLICT');
    await expectCode(svc.revoke(admin, 'no-such-principal'), 'NOT_FOUND');
    await expectCode(svc.rotate(admin, 'Not An Id'), 'NOT_FOUND');
  });

  it('updateScopes records before/after scopes; equal scopes are a no-op', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    const updated = await svc.updateScopes(admin, principal.id, {
      'tenant-a': ['events:read', 'events:write'],
      'tenant-b': ['export'],
    });
    expect(updated.scopes).toEqual({ 'tenant-a': ['events:write', 'events:read'], 'tenant-b': ['export'] });
    const now = await svc.authenticate(apiKey);
    svc.authorize(now, 'tenant-b', 'export'); // effective immediately
    const e = audit.events[1] as AdminAuditEvent;
    expect(e.action).toBe('principal.scopes.update');
    expect(e.changes.before).toMatchObject({ scopes: { 'tenant-a': ['events:write'] }, version: 1 });
    expect(e.changes.after).toMatchObject({ scopes: updated.scopes, version: 2 });
    await svc.updateScopes(admin, principal.id, {
      'tenant-b': ['export'],
      'tenant-a': ['events:read', 'events:write'],
    });
    expect(audit.events).toHaveLength(2);
    const bad = await expectCode(svc.updateScopes(admin, principal.id, { '': ['export'] }), 'BAD_REQUEST');
    expect(bad.path).toBe('/scopes/');
    const renamed = await svc.update(admin, principal.id, { name: 'Billing agent v2' });
    expect(renamed.name).toBe('Billing agent v2');
    expect(audit.events[2]?.action).toBe('principal.update');
    checkEvents([apiKey]);
  });

  it('list pages through principals; get unknown → NOT_FOUND', async () => {
    for (let i = 0; i < 4; i++) await svc.create(admin, { ...agentInput(), id: `agent-${i}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await svc.list(admin, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.principals.length).toBeLessThanOrEqual(2);
      seen.push(...page.principals.map((p) => p.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(['agent-0', 'agent-1', 'agent-2', 'agent-3', 'root-admin']);
    expect(JSON.stringify(seen)).not.toContain('secretHash');
    await expectCode(svc.list(admin, { limit: 0 }), 'BAD_REQUEST');
    await expectCode(svc.list(admin, { cursor: '!!' }), 'BAD_REQUEST');
    await expectCode(svc.get(admin, 'agent-9'), 'NOT_FOUND');
  });
});

describe('concurrency', () => {
  it('a stale ifVersion → CONFLICT and nothing recorded', async () => {
    const { principal } = await svc.create(admin, agentInput());
    await svc.updateScopes(admin, principal.id, { x: ['export'] }, { ifVersion: 1 });
    await expectCode(svc.updateScopes(admin, principal.id, { y: ['export'] }, { ifVersion: 1 }), 'CONFLICT');
    expect((await svc.get(admin, principal.id)).scopes).toEqual({ x: ['export'] });
    expect(audit.events).toHaveLength(2);
  });

  it('two admins editing from the same read: one wins, the other gets CONFLICT; one record', async () => {
    const { principal } = await svc.create(admin, agentInput());
    audit.mark();
    store.barrier = { waiting: 0, size: 2 }; // both reads complete before either write
    const results = await Promise.allSettled([
      svc.updateScopes(admin, principal.id, { a1: ['events:read'] }),
      svc.updateScopes(admin, principal.id, { b1: ['events:read'] }),
    ]);
    store.barrier = undefined;
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Principal>[];
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect((failed[0]?.reason as AppError | undefined)?.code).toBe('CONFLICT');
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]?.changes.after).toMatchObject({ scopes: ok[0]?.value.scopes });
    expect((await svc.get(admin, principal.id)).scopes).toEqual(ok[0]?.value.scopes);
  });

  it('concurrent rotate and revoke never both apply to the same version', async () => {
    const { principal } = await svc.create(admin, agentInput());
    store.barrier = { waiting: 0, size: 2 };
    const results = await Promise.allSettled([
      svc.rotate(admin, principal.id),
      svc.revoke(admin, principal.id),
    ]);
    store.barrier = undefined;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(audit.events.filter((e) => e.target.id === principal.id)).toHaveLength(2); // create + the winner
  });
});

describe('audit ordering: stage → record → promote', () => {
  it('sink down: the change fails, is not in effect, and recovery completes it with one record', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    audit.failNext = 1;
    const err = await expectCode(svc.updateScopes(admin, principal.id, { '*': ['export'] }), 'UNAVAILABLE');
    expect(err.retryAfterSeconds).toBe(3);
    expect(audit.events).toHaveLength(1);
    // Not in effect: authentication still sees the old scopes.
    expect((await svc.authenticate(apiKey)).scopes).toEqual({ 'tenant-a': ['events:write'] });
    expect(await svc.recoverPending()).toEqual({ completed: 1, failed: 0 });
    expect((await svc.authenticate(apiKey)).scopes).toEqual({ '*': ['export'] });
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.scopes.update']);
    expect(await svc.recoverPending()).toEqual({ completed: 0, failed: 0 });
  });

  it('sink down during rotate: the old key keeps working until the rotation is completed', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    audit.failNext = 1;
    await expectCode(svc.rotate(admin, principal.id), 'UNAVAILABLE');
    expect((await svc.authenticate(apiKey)).id).toBe(principal.id);
    // Retrying completes the staged rotation (its key was never shown) and rotates again.
    const retry = await svc.rotate(admin, principal.id);
    await expectAuthFails(apiKey, 'wrong_secret');
    expect((await svc.authenticate(retry.apiKey)).version).toBe(3);
    expect(audit.events.map((e) => [e.action, e.id])).toEqual([
      ['principal.create', `principal/${principal.id}/v1`],
      ['principal.rotate', `principal/${principal.id}/v2`],
      ['principal.rotate', `principal/${principal.id}/v3`],
    ]);
  });

  it('sink down during revoke: the revocation already fails closed', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    audit.failNext = 1;
    await expectCode(svc.revoke(admin, principal.id), 'UNAVAILABLE');
    await expectAuthFails(apiKey, 'revocation_pending');
    await svc.recoverPending();
    await expectAuthFails(apiKey, 'revoked');
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.revoke']);
  });

  it('a revocation on top of a staged rotation that cannot be recorded yet still wins', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    audit.failNext = 2; // the rotation's RECORD, then the revoke's attempt to settle that rotation first
    await expectCode(svc.rotate(admin, principal.id), 'UNAVAILABLE');
    expect((await svc.authenticate(apiKey)).version).toBe(1); // the rotation is not in effect
    const revoked = await svc.revoke(admin, principal.id);
    // Old code: revoke threw UNAVAILABLE without staging anything and the key kept working.
    await expectAuthFails(apiKey, 'revoked');
    expect(revoked).toMatchObject({ status: 'revoked', version: 3, keyId: principal.keyId });
    // The unrecorded rotation is dropped; its version number is never reused.
    expect(audit.events.map((e) => [e.action, e.id])).toEqual([
      ['principal.create', `principal/${principal.id}/v1`],
      ['principal.revoke', `principal/${principal.id}/v3`],
    ]);
    expect(audit.events[1]?.changes.before).toMatchObject({ version: 1, status: 'active' });
    expect(audit.events[1]?.metadata).toMatchObject({ supersedes: `principal/${principal.id}/v2` });
  });

  it('audit log down for good: the revocation is staged over the pending change and fails closed', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    audit.failNext = 3; // rotation RECORD, revoke's settle attempt, revoke's own RECORD
    await expectCode(svc.rotate(admin, principal.id), 'UNAVAILABLE');
    const err = await expectCode(svc.revoke(admin, principal.id), 'UNAVAILABLE');
    expect(err.message).toMatch(/revocation is in effect/);
    // Old code: authenticated (nothing was staged).
    await expectAuthFails(apiKey, 'revocation_pending');
    expect(await svc.recoverPending()).toEqual({ completed: 1, failed: 0 });
    await expectAuthFails(apiKey, 'revoked');
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.revoke']);
  });

  it('sink wrote but then failed (timeout after success): recovery does not duplicate the record', async () => {
    const { principal } = await svc.create(admin, agentInput());
    audit.failAfterNext = 1;
    await expectCode(svc.updateScopes(admin, principal.id, { z: ['export'] }), 'UNAVAILABLE');
    expect(audit.events).toHaveLength(2);
    // The next change on the principal rolls the staged one forward first.
    await svc.updateScopes(admin, principal.id, { z: ['export', 'events:read'] });
    expect(audit.events.map((e) => e.id)).toEqual([
      `principal/${principal.id}/v1`,
      `principal/${principal.id}/v2`,
      `principal/${principal.id}/v3`,
    ]);
    expect((await svc.get(admin, principal.id)).scopes).toEqual({ z: ['events:read', 'export'] });
  });

  it('crash after RECORD, before PROMOTE: the record exists and recovery makes it true', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    store.crashOnPut = (e) => e.id === principal.id && e.pending === undefined; // the PROMOTE write
    await rejection(svc.revoke(admin, principal.id));
    expect(audit.events.map((e) => e.action)).toEqual(['principal.create', 'principal.revoke']);
    await expectAuthFails(apiKey, 'revocation_pending');
    expect(await svc.recoverPending()).toEqual({ completed: 1, failed: 0 });
    await expectAuthFails(apiKey, 'revoked');
    expect(audit.events).toHaveLength(2);
  });

  it('between RECORD and PROMOTE the old version is already refused, without a binding alarm', async () => {
    const failures: string[] = [];
    const watched = new PrincipalService({
      store,
      clock: { now: () => clockMs },
      random: (n) => new Uint8Array(randomBytes(n)),
      audit,
      auditLog: audit,
      onBindingFailure: (f) => failures.push(f.reason),
    });
    const { principal, apiKey } = await svc.create(admin, agentInput());
    store.crashOnPut = (e) => e.id === principal.id && e.pending === undefined; // the PROMOTE write
    await rejection(svc.updateScopes(admin, principal.id, { 'tenant-b': ['export'] }));
    // The log says version 2 is in effect; version 1 is over even though the item still holds it.
    await expect(watched.authenticate(apiKey)).rejects.toMatchObject({ reason: 'promotion_pending' });
    expect(failures).toEqual([]);
    expect(await svc.recoverPending()).toEqual({ completed: 1, failed: 0 });
    expect((await watched.authenticate(apiKey)).scopes).toEqual({ 'tenant-b': ['export'] });
  });

  it('crash at STAGE: nothing changes and nothing is recorded', async () => {
    const { principal, apiKey } = await svc.create(admin, agentInput());
    store.crashOnPut = (e) => e.pending !== undefined;
    await rejection(svc.rotate(admin, principal.id));
    expect((await svc.authenticate(apiKey)).version).toBe(1);
    expect(audit.events).toHaveLength(1);
    expect(await svc.recoverPending()).toEqual({ completed: 0, failed: 0 });
  });

  it('a staged create is invisible until recorded', async () => {
    audit.failNext = 1;
    await expectCode(svc.create(admin, { ...agentInput(), id: 'late-agent' }), 'UNAVAILABLE');
    await expectCode(svc.get(admin, 'late-agent'), 'NOT_FOUND');
    expect((await svc.list(admin)).principals.map((p) => p.id)).toEqual(['root-admin']);
    expect(await svc.recoverPending()).toEqual({ completed: 1, failed: 0 });
    expect((await svc.get(admin, 'late-agent')).id).toBe('late-agent');
  });
});
