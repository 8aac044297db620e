/**
 * Per-log policy on in-memory adapters (src/app/log-policy.ts; docs/events.md
 * §Modes, docs/producer-signatures.md §Policy): each change is recorded in
 * the system log with before/after before it takes effect, a crash between
 * the two writes is completed by the next change, ingest applies a change
 * within the cache's bound and never falls back to the defaults on a failed
 * read, and the deployment-wide signature rule cannot be dropped.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogPolicyStore } from '../../src/adapters/memory/log-policy-store.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import {
  CachedLogPolicy,
  effectivePolicy,
  LOG_POLICY_CACHE_MS,
  type LogPolicyDefaults,
  LogPolicyService,
  logPolicyEventId,
} from '../../src/app/log-policy.ts';
import { ProducerKeyService, parseSignaturePolicy, producerKeyReader } from '../../src/app/producer-keys.ts';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { Catalog } from '../../src/core/catalog.ts';
import { validateEvent } from '../../src/core/event.ts';
import { parsePublicKey } from '../../src/core/producer-key.ts';
import { signEvent } from '../../src/core/producer-signature.ts';
import { ADMIN, MemoryAuditSink, principal } from './rules-support.ts';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const LOG = 'payments';
const APP = 'app-1';
const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);

function env(signatures = '') {
  const clock = new ManualClock({ startMs: T0, stepMs: 1 });
  const store = new MemoryLogPolicyStore();
  const sink = new MemoryAuditSink();
  const logs = new MemoryLogStore();
  const defaults: LogPolicyDefaults = {
    catalogMode: 'warn',
    catalogModes: new Map(),
    signatures: parseSignaturePolicy(signatures),
  };
  const policy = new LogPolicyService({ store, audit: sink, auditLog: sink, logs, clock, defaults });
  const cached = new CachedLogPolicy(store, defaults, catalog, clock);
  const keyStore = new MemoryProducerKeyStore();
  const keys = new ProducerKeyService({
    store: keyStore,
    audit: sink,
    auditLog: sink,
    clock,
    principals: { get: async (_a, id) => principal(id) },
  });
  const ingest = new IngestService({
    store: logs,
    clock,
    sleep: (ms) => clock.sleep(ms),
    catalog: cached.catalogPolicy,
    signatures: { keys: producerKeyReader(keyStore), policy: cached.signaturePolicy },
  });
  const append = (events: unknown[], submitter = APP) =>
    ingest.append({ logId: LOG, submitter, body: utf8(JSON.stringify({ events })) });
  return { clock, store, sink, logs, policy, ingest, keys, append, defaults };
}

const unknownAction = {
  occurredAt: '2026-03-01T11:59:00.000Z',
  actor: { type: 'service', id: 'svc-1' },
  action: 'nobody.knows',
  outcome: 'success',
};

async function codeOf(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('setting a log policy', () => {
  it('records the change in the system log with before/after, then it is stored', async () => {
    const e = env();
    await e.logs.createLog(LOG, '2026-01-01T00:00:00.000Z');
    const r = await e.policy.set(ADMIN, LOG, { catalogMode: 'enforce' }, { requestId: 'req-1' });
    expect(r.changed).toBe(true);
    expect(r.policy.effective.catalogMode).toBe('enforce');
    expect(r.policy.defaults.catalogMode).toBe('warn');
    expect(e.sink.events).toHaveLength(1);
    expect(e.sink.events[0]).toMatchObject({
      id: logPolicyEventId(LOG, 1),
      action: 'log.policy.set',
      target: { type: 'log', id: LOG },
      changes: { before: {}, after: { logId: LOG, catalogMode: 'enforce', version: 1 } },
      context: { requestId: 'req-1' },
    });
    const r2 = await e.policy.set(ADMIN, LOG, {
      catalogMode: 'enforce',
      signatures: { principals: ['b', 'a', 'a'], actorTypes: ['agent'] },
    });
    expect(r2.policy.stored?.signatures).toEqual({ principals: ['a', 'b'], actorTypes: ['agent'] });
    expect(e.sink.events[1]?.changes).toMatchObject({
      before: { version: 1, catalogMode: 'enforce' },
      after: { version: 2, signatures: { principals: ['a', 'b'] } },
    });
    // The same policy again: nothing changes, nothing is recorded.
    const r3 = await e.policy.set(ADMIN, LOG, {
      catalogMode: 'enforce',
      signatures: { principals: ['a', 'b'], actorTypes: ['agent'] },
    });
    expect(r3.changed).toBe(false);
    expect(e.sink.events).toHaveLength(2);
    // null clears a field: back to the default.
    const r4 = await e.policy.set(ADMIN, LOG, { catalogMode: null });
    expect(r4.policy.effective).toEqual({ catalogMode: 'warn', signatures: null });
    expect((await e.policy.get(ADMIN, LOG)).stored?.version).toBe(3);
  });

  it('a change recorded but not stored (crash between the two) is completed by the next set', async () => {
    const e = env();
    await e.logs.createLog(LOG, '2026-01-01T00:00:00.000Z');
    e.sink.failAfterNext = 1;
    await expect(e.policy.set(ADMIN, LOG, { catalogMode: 'off' })).rejects.toThrow('socket hang up');
    expect(await e.store.get(LOG)).toBeUndefined();
    const retry = await e.policy.set(ADMIN, LOG, { catalogMode: 'off' });
    expect(retry.changed).toBe(true);
    expect(e.sink.events).toHaveLength(1);
    expect((await e.store.get(LOG))?.catalogMode).toBe('off');
    // A different change after the crash stores the recorded one first, then records v2.
    e.sink.failAfterNext = 1;
    await expect(e.policy.set(ADMIN, LOG, { catalogMode: 'enforce' })).rejects.toThrow();
    await e.policy.set(ADMIN, LOG, { catalogMode: 'warn' });
    expect(e.sink.events.map((x) => x.changes.after.catalogMode)).toEqual(['off', 'enforce', 'warn']);
    expect((await e.store.get(LOG))?.version).toBe(3);
  });

  it('refuses bad input naming the field, the system log, unknown logs and non-admins', async () => {
    const e = env();
    await e.logs.createLog(LOG, '2026-01-01T00:00:00.000Z');
    expect((await codeOf(e.policy.set(ADMIN, LOG, { catalogMode: 'strict' }))).path).toBe('/catalogMode');
    const bad = await codeOf(e.policy.set(ADMIN, LOG, { signatures: { actorTypes: ['robot'] } }));
    expect([bad.code, bad.path]).toEqual(['BAD_REQUEST', '/signatures/actorTypes/0']);
    expect((await codeOf(e.policy.set(ADMIN, LOG, { mode: 'warn' }))).path).toBe('/mode');
    expect((await codeOf(e.policy.set(ADMIN, 'system', {}))).code).toBe('BAD_REQUEST');
    expect((await codeOf(e.policy.set(ADMIN, 'nope', {}))).code).toBe('NOT_FOUND');
    const logAdmin = principal('log-admin', { [LOG]: ['admin'] });
    expect((await codeOf(e.policy.set(logAdmin, LOG, { catalogMode: 'off' }))).code).toBe('FORBIDDEN');
    expect((await e.policy.get(logAdmin, LOG)).logId).toBe(LOG);
    expect((await codeOf(e.policy.get(principal('reader', { [LOG]: ['events:read'] }), LOG))).code).toBe(
      'FORBIDDEN',
    );
    expect(e.sink.events).toHaveLength(0);
  });
});

describe('effective policy', () => {
  it('a stored rule replaces the log’s own default rule; the * rule always applies', () => {
    const defaults: LogPolicyDefaults = {
      catalogMode: 'warn',
      catalogModes: new Map([[LOG, 'enforce']]),
      signatures: parseSignaturePolicy(`${LOG}=principal:old;*=actor:agent`),
    };
    expect(effectivePolicy(defaults, LOG, undefined)).toEqual({
      catalogMode: 'enforce',
      signatures: { principals: ['old'], actorTypes: ['agent'] },
    });
    const stored = {
      logId: LOG,
      catalogMode: 'off' as const,
      signatures: { principals: [], actorTypes: [] },
      version: 1,
      updatedAt: '2026-03-01T00:00:00.000Z',
    };
    expect(effectivePolicy(defaults, LOG, stored)).toEqual({
      catalogMode: 'off',
      signatures: { principals: [], actorTypes: ['agent'] },
    });
  });
});

describe('ingest applies the policy', () => {
  it('within the cache bound: catalog enforce and a signature requirement take effect, and go again', async () => {
    const e = env();
    await e.logs.createLog(LOG, '2026-01-01T00:00:00.000Z');
    // warn (the default): accepted, flagged.
    const warned = await e.append([unknownAction]);
    expect(warned.receipts[0]?.problems?.length).toBeGreaterThan(0);
    await e.policy.set(ADMIN, LOG, {
      catalogMode: 'enforce',
      signatures: { principals: [APP], actorTypes: [] },
    });
    // Cached for up to LOG_POLICY_CACHE_MS: the old policy still applies just before it runs out.
    e.clock.advance(LOG_POLICY_CACHE_MS - 100);
    expect((await e.append([unknownAction])).receipts).toHaveLength(1);
    e.clock.advance(200);
    const refused = await codeOf(e.append([unknownAction]));
    expect([refused.code, refused.path]).toEqual(['BAD_REQUEST', '/events/0/action']);
    const known = {
      occurredAt: '2026-03-01T11:59:00.000Z',
      actor: { type: 'service', id: 'svc-1' },
      action: 'producer.heartbeat',
      outcome: 'success',
      metadata: { intervalSeconds: 60 },
      producer: { stream: 's1', seq: 1 },
    };
    expect((await codeOf(e.append([known]))).code).toBe('SIGNATURE_REQUIRED');
    // Signed by a registered key: accepted.
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await e.keys.register(ADMIN, APP, { publicKey: pem });
    const signed = await signEvent(validateEvent(known), {
      keyId: parsePublicKey(pem).keyId,
      alg: 'Ed25519',
      sign: async (m) => new Uint8Array(nodeSign(null, m, privateKey)),
    });
    expect((await e.append([signed])).receipts).toHaveLength(1);
    // Dropped again through the API: unsigned accepted once the cache runs out.
    await e.policy.set(ADMIN, LOG, { catalogMode: 'enforce' });
    e.clock.advance(LOG_POLICY_CACHE_MS + 1);
    expect((await e.append([known])).receipts).toHaveLength(1);
  });

  it('a failed policy read fails the batch (retryable) and is not cached; nothing is stored', async () => {
    const e = env(`${LOG}=principal:${APP}`);
    await e.logs.createLog(LOG, '2026-01-01T00:00:00.000Z');
    e.store.faults.fail({ op: 'get', code: 'UNAVAILABLE' });
    const err = await codeOf(e.append([unknownAction]));
    expect(err.code).toBe('UNAVAILABLE');
    expect((await e.logs.readTip(LOG)).nextIndex).toBe(0);
    // The next request reads again and the default rule (app-1 must sign) applies.
    expect((await codeOf(e.append([unknownAction]))).code).toBe('SIGNATURE_REQUIRED');
  });
});
