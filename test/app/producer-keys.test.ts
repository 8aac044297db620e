/**
 * Producer keys and signed ingest on in-memory adapters
 * (src/app/producer-keys.ts, src/app/ingest.ts #checkSignatures;
 * docs/producer-signatures.md): registration and revocation are recorded in
 * the system log with before/after before they take effect, a crash between
 * the two writes is completed by a retry, keys rotate with overlap, and every
 * bad signature is a 400 with its code and nothing of the batch is stored.
 */
import { generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryPendingStore } from '../../src/adapters/memory/pending-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import {
  BoundProducerKeys,
  KEY_BINDING_RECHECK_MS,
  type KeyBindingFailure,
  ProducerKeyService,
  parseSignaturePolicy,
  producerKeyEventId,
  StaticSignaturePolicy,
} from '../../src/app/producer-keys.ts';
import { toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { type AuditEvent, validateEvent } from '../../src/core/event.ts';
import { parsePublicKey, type SignatureAlg } from '../../src/core/producer-key.ts';
import { type EventSigner, signEvent } from '../../src/core/producer-signature.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { ADMIN, MemoryAuditSink, principal } from './rules-support.ts';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const LOG = 'payments';
const APP = 'app-1';

interface Key {
  privateKey: KeyObject;
  pem: string;
  keyId: string;
  signer: EventSigner;
}

function newKey(alg: SignatureAlg = 'Ed25519'): Key {
  const { privateKey, publicKey } =
    alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const keyId = parsePublicKey(pem).keyId;
  const signer: EventSigner = {
    keyId,
    alg,
    sign: async (m) =>
      new Uint8Array(
        alg === 'Ed25519'
          ? nodeSign(null, m, privateKey)
          : nodeSign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
  return { privateKey, pem, keyId, signer };
}

/** The deployed wiring on memory adapters: ingest reads keys through BoundProducerKeys; `pending` selects the accept-then-sequence path. */
function env(policy = '', opts: { pending?: boolean } = {}) {
  const clock = new ManualClock({ startMs: T0, stepMs: 1 });
  const bindingFailures: KeyBindingFailure[] = [];
  const keyStore = new MemoryProducerKeyStore();
  const sink = new MemoryAuditSink();
  const logs = new MemoryLogStore();
  const known = new Set([APP, 'app-2']);
  const keys = new ProducerKeyService({
    store: keyStore,
    audit: sink,
    auditLog: sink,
    clock,
    principals: {
      get: async (_a, id) => {
        if (!known.has(id)) throw new AppError('NOT_FOUND', `no principal ${id}`);
        return principal(id);
      },
    },
  });
  const ingest = new IngestService({
    store: logs,
    clock,
    sleep: (ms) => clock.sleep(ms),
    signatures: {
      keys: new BoundProducerKeys({
        store: keyStore,
        auditLog: sink,
        clock,
        onBindingFailure: (f) => bindingFailures.push(f),
      }),
      policy: new StaticSignaturePolicy(parseSignaturePolicy(policy)),
    },
    ...(opts.pending
      ? { pending: { store: new MemoryPendingStore(), defaultWaitMs: 5_000, maxPendingEntries: 1_000 } }
      : {}),
  });
  const registry = new LogRegistry({ store: logs, clock });
  const size = async () => (await logs.readTip(LOG)).nextIndex;
  const append = (events: unknown[], submitter = APP) =>
    ingest.append({ logId: LOG, submitter, body: utf8(JSON.stringify({ events })) });
  return { clock, keyStore, sink, logs, keys, ingest, registry, size, append, bindingFailures };
}

let n = 0;
function event(extra: Record<string, unknown> = {}): AuditEvent {
  return validateEvent({
    occurredAt: '2026-03-01T11:59:00.000Z',
    actor: { type: 'service', id: 'svc-1' },
    action: 'tool.call',
    outcome: 'success',
    metadata: { n: n++ },
    ...extra,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return (e as AppError).code;
}

describe('registering and revoking keys', () => {
  it('records each change in the system log with before/after, then it takes effect', async () => {
    const e = env();
    const k = newKey('ES256');
    const r = await e.keys.register(ADMIN, APP, { publicKey: k.pem }, { requestId: 'req-1' });
    expect(r.created).toBe(true);
    expect(r.key).toMatchObject({
      keyId: k.keyId,
      principalId: APP,
      alg: 'ES256',
      version: 1,
      status: 'active',
    });
    expect(e.sink.events).toHaveLength(1);
    expect(e.sink.events[0]).toMatchObject({
      id: producerKeyEventId(k.keyId, 1),
      action: 'producer_key.register',
      actor: { id: ADMIN.id },
      target: { type: 'producer_key', id: k.keyId, name: APP },
      changes: { before: {}, after: { keyId: k.keyId, principalId: APP, version: 1 } },
      context: { requestId: 'req-1' },
    });
    // The recorded event is a valid Event v1 (it goes into the system log as one).
    expect(() => validateEvent(JSON.parse(JSON.stringify(e.sink.events[0])))).not.toThrow();
    // The same request again: nothing new.
    expect((await e.keys.register(ADMIN, APP, { publicKey: k.pem })).created).toBe(false);
    expect(e.sink.events).toHaveLength(1);
    // The same key for another principal: refused (one key, one principal, ever).
    expect(await codeOf(e.keys.register(ADMIN, 'app-2', { publicKey: k.pem }))).toBe('CONFLICT');
    expect(await codeOf(e.keys.register(ADMIN, 'nobody', { publicKey: newKey().pem }))).toBe('NOT_FOUND');
    expect(
      await codeOf(
        e.keys.register(principal('x', { '*': ['events:write'] }), APP, { publicKey: newKey().pem }),
      ),
    ).toBe('FORBIDDEN');
    expect(await codeOf(e.keys.register(ADMIN, APP, { publicKey: 'garbage' }))).toBe('BAD_REQUEST');

    const rv = await e.keys.revoke(ADMIN, APP, k.keyId, {});
    expect(rv.key).toMatchObject({ version: 2, status: 'revoked' });
    expect(e.sink.events[1]).toMatchObject({
      id: producerKeyEventId(k.keyId, 2),
      action: 'producer_key.revoke',
      changes: { before: { version: 1 }, after: { version: 2, revokedAt: rv.key.revokedAt } },
    });
    expect((await e.keys.revoke(ADMIN, APP, k.keyId, {})).changed).toBe(false);
    expect((await e.keys.list(ADMIN, APP)).keys.map((x) => x.keyId)).toEqual([k.keyId]);
  });

  it('a crash between the record and the store write is completed by the retry', async () => {
    const e = env();
    const k = newKey();
    e.keyStore.faults.fail({ op: 'put', code: 'UNAVAILABLE' });
    expect(await codeOf(e.keys.register(ADMIN, APP, { publicKey: k.pem }))).toBe('UNAVAILABLE');
    expect(e.sink.events).toHaveLength(1);
    expect(await e.keyStore.get(APP, k.keyId)).toBeUndefined();
    e.clock.t += 1000;
    const again = await e.keys.register(ADMIN, APP, { publicKey: k.pem });
    expect(again.created).toBe(false);
    expect(e.sink.events).toHaveLength(1);
    expect(await e.keyStore.get(APP, k.keyId)).toMatchObject({ version: 1 });

    e.keyStore.faults.fail({ op: 'put', code: 'UNAVAILABLE' });
    expect(await codeOf(e.keys.revoke(ADMIN, APP, k.keyId, {}))).toBe('UNAVAILABLE');
    // The revocation is recorded (the retry completes it, whatever time it names).
    e.clock.t += 1000;
    const rv = await e.keys.revoke(ADMIN, APP, k.keyId, {});
    expect(rv.key.revokedAt).toBe(
      (e.sink.events[1]?.changes.after as { revokedAt?: string } | undefined)?.revokedAt,
    );
    expect(e.sink.events).toHaveLength(2);
  });
});

describe('signed ingest', () => {
  async function ready(policy = '') {
    const e = env(policy);
    await e.registry.createLog(LOG);
    const k = newKey();
    await e.keys.register(ADMIN, APP, { publicKey: k.pem });
    return { ...e, k };
  }

  it('a signed event is stored with its signature in the record', async () => {
    const e = await ready();
    const signed = await signEvent(event(), e.k.signer);
    const r = await e.append([signed, event()]);
    expect(r.status).toBe(201);
    const batch = await e.logs.readBatch(LOG, 1);
    const stored = decodeRecord(batch?.records[0]?.bytes as Uint8Array);
    expect(stored.event.signature).toEqual(signed.signature);
    expect(decodeRecord(batch?.records[1]?.bytes as Uint8Array).event.signature).toBeUndefined();
  });

  it('garbage signatures are 400 with a stable code, and nothing of the batch is stored', async () => {
    const e = await ready();
    const good = await signEvent(event(), e.k.signer);
    const sig = good.signature as NonNullable<AuditEvent['signature']>;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // a well-formed but wrong signature
          fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => ({ ...sig, sig: toBase64Url(b) })),
          // an unknown key id
          fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => ({ ...sig, keyId: toBase64Url(b) })),
          // malformed text
          fc.string({ maxLength: 100 }).map((s) => ({ ...sig, sig: s })),
          fc.constant({ ...sig, alg: 'ES256' }),
          fc.anything().filter((v) => v !== undefined),
        ),
        fc.nat(3),
        async (signature, position) => {
          const before = await e.size();
          const events: unknown[] = [event(), event(), event(), event()];
          events[position] = { ...good, signature };
          const err = await e.append(events).then(
            () => undefined,
            (x: unknown) => x,
          );
          expect(err).toBeInstanceOf(AppError);
          expect(['SIGNATURE_INVALID', 'SIGNATURE_KEY_UNKNOWN', 'BAD_REQUEST']).toContain(
            (err as AppError).code,
          );
          expect((err as AppError).path?.startsWith(`/events/${position}`)).toBe(true);
          expect(await e.size()).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
    // A signed event whose content was changed after signing.
    expect(await codeOf(e.append([{ ...good, outcome: 'failure' }]))).toBe('SIGNATURE_INVALID');
    // Another principal's key: unknown to this submitter.
    const k2 = newKey();
    await e.keys.register(ADMIN, 'app-2', { publicKey: k2.pem });
    expect(await codeOf(e.append([await signEvent(event(), k2.signer)]))).toBe('SIGNATURE_KEY_UNKNOWN');
    expect(await e.size()).toBe(0);
  });

  it('rotation with overlap: both keys sign in the overlap; the old one is refused after its end', async () => {
    const e = await ready();
    const old = e.k;
    const next = newKey('ES256');
    const end = new Date(T0 + 3_600_000).toISOString();
    await e.keys.register(ADMIN, APP, { publicKey: next.pem });
    await e.keys.revoke(ADMIN, APP, old.keyId, { at: end });
    expect(
      (await e.append([await signEvent(event(), old.signer), await signEvent(event(), next.signer)])).status,
    ).toBe(201);
    e.clock.t = T0 + 3_600_001;
    expect(await codeOf(e.append([await signEvent(event(), old.signer)]))).toBe('SIGNATURE_KEY_INACTIVE');
    expect((await e.append([await signEvent(event(), next.signer)])).status).toBe(201);
    expect(await e.size()).toBe(3);
    // A key that starts later is not valid yet.
    const later = newKey();
    await e.keys.register(ADMIN, APP, {
      publicKey: later.pem,
      notBefore: new Date(T0 + 7_200_000).toISOString(),
    });
    expect(await codeOf(e.append([await signEvent(event(), later.signer)]))).toBe('SIGNATURE_KEY_INACTIVE');
  });

  it('policy: signatures required from named principals and actor types (SIGNATURE_REQUIRED)', async () => {
    const e = await ready(`${LOG}=principal:${APP};*=actor:agent`);
    expect(await codeOf(e.append([event()]))).toBe('SIGNATURE_REQUIRED');
    expect((await e.append([await signEvent(event(), e.k.signer)])).status).toBe(201);
    // app-2 is not named, but agents must sign on every log.
    expect((await e.append([event()], 'app-2')).status).toBe(201);
    expect(await codeOf(e.append([event({ actor: { type: 'agent', id: 'a' } })], 'app-2'))).toBe(
      'SIGNATURE_REQUIRED',
    );
    expect(() => parseSignaturePolicy('x=actor:robot')).toThrow(RangeError);
    expect(() => parseSignaturePolicy('x=principal:')).toThrow(RangeError);
  });
});

describe('a batch verified concurrently', () => {
  async function ready(policy = '', opts: { pending?: boolean } = {}) {
    const e = env(policy, opts);
    await e.registry.createLog(LOG);
    const k = newKey();
    await e.keys.register(ADMIN, APP, { publicKey: k.pem });
    const p = newKey('ES256');
    await e.keys.register(ADMIN, APP, { publicKey: p.pem });
    return { ...e, k, p };
  }
  /** 100 events, each signed with one of the two keys in turn. */
  async function batch(e: Awaited<ReturnType<typeof ready>>): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    for (let i = 0; i < 100; i++) out.push(await signEvent(event(), i % 2 ? e.p.signer : e.k.signer));
    return out;
  }
  const wrongSig = (ev: AuditEvent): AuditEvent => {
    const s = ev.signature as NonNullable<AuditEvent['signature']>;
    // Another valid-looking 64 bytes: the first byte flipped.
    const bytes = Buffer.from(s.sig, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    return { ...ev, signature: { ...s, sig: toBase64Url(bytes) } };
  };
  async function refusal(p: Promise<unknown>): Promise<AppError> {
    const err = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }

  for (const pending of [false, true]) {
    const path = pending ? 'pending path' : 'direct path';
    it(`${path}: one bad signature in the middle of 100 is a 400 naming it; nothing is stored`, async () => {
      const e = await ready('', { pending });
      const events = await batch(e);
      for (const at of [57, 0, 99]) {
        const bad = [...events];
        bad[at] = wrongSig(bad[at] as AuditEvent);
        const err = await refusal(e.append(bad));
        expect(err.code).toBe('SIGNATURE_INVALID');
        expect(err.path).toBe(`/events/${at}/signature`);
        expect(err.message).toContain(`event ${at}:`);
        expect(await e.size()).toBe(0);
      }
      // Two failures of different kinds: the first in event order is named, whichever check found it.
      const two = [...events];
      two[70] = {
        ...(two[70] as AuditEvent),
        signature: {
          ...(two[70]?.signature as NonNullable<AuditEvent['signature']>),
          keyId: toBase64Url(new Uint8Array(32)),
        },
      };
      two[30] = wrongSig(two[30] as AuditEvent);
      expect((await refusal(e.append(two))).path).toBe('/events/30/signature');
      // A policy requiring signatures: an unsigned event after a bad signature; then alone.
      const wp = await ready(`${LOG}=principal:${APP}`, { pending });
      const mixed = await batch(wp);
      mixed[20] = event();
      mixed[10] = wrongSig(mixed[10] as AuditEvent);
      expect((await refusal(wp.append(mixed))).path).toBe('/events/10/signature');
      mixed[10] = (await batch(wp))[10] as AuditEvent;
      const req = await refusal(wp.append(mixed));
      expect([req.code, req.path]).toEqual(['SIGNATURE_REQUIRED', '/events/20/signature']);
      expect(await wp.size()).toBe(0);
      // The untouched batch goes in whole.
      const ok = await e.append(events);
      expect(ok.receipts).toHaveLength(100);
      expect(await e.size()).toBe(100);
      // A replay of a stored batch is checked again (a bad signature is never answered 200).
      const replay = [...events];
      replay[42] = wrongSig(replay[42] as AuditEvent);
      expect((await refusal(e.append(replay))).path).toBe('/events/42/signature');
      expect(await e.size()).toBe(100);
    });

    it(`${path}: a signature failure wins over a failure found by the reads it overlapped`, async () => {
      const e = await ready('', { pending });
      const events = await batch(e);
      events[5] = wrongSig(events[5] as AuditEvent);
      const err = await refusal(
        e.ingest.append({ logId: 'no-such-log', submitter: APP, body: utf8(JSON.stringify({ events })) }),
      );
      expect(err.code).toBe('SIGNATURE_INVALID');
      expect(err.path).toBe('/events/5/signature');
    });
  }

  it('a revoked key is refused from the next batch (the store is read every batch)', async () => {
    const e = await ready();
    expect((await e.append(await batch(e))).status).toBe(201);
    await e.keys.revoke(ADMIN, APP, e.p.keyId, {});
    e.clock.t += 10;
    const err = await refusal(e.append(await batch(e)));
    expect(err.code).toBe('SIGNATURE_KEY_INACTIVE');
    expect(err.path).toBe('/events/1/signature');
    expect(await e.size()).toBe(100);
  });

  it('a revocation recorded whose store write was lost takes effect within KEY_BINDING_RECHECK_MS', async () => {
    const e = await ready();
    const sign = () => signEvent(event(), e.k.signer);
    expect((await e.append([await sign()])).status).toBe(201);
    e.keyStore.faults.fail({ op: 'put', code: 'UNAVAILABLE' });
    expect(await codeOf(e.keys.revoke(ADMIN, APP, e.k.keyId, {}))).toBe('UNAVAILABLE');
    expect(e.sink.events.at(-1)?.action).toBe('producer_key.revoke');
    // The binding checked above is still within its bound: the store's version is used.
    e.clock.t += 1_000;
    expect((await e.append([await sign()])).status).toBe(201);
    // Past the bound, the system log's later version (the revocation) is followed.
    e.clock.t += KEY_BINDING_RECHECK_MS;
    expect(await codeOf(e.append([await sign()]))).toBe('SIGNATURE_KEY_INACTIVE');
    expect(e.bindingFailures).toEqual([]);
    // A new key (rotation) is in effect at once.
    const next = newKey();
    await e.keys.register(ADMIN, APP, { publicKey: next.pem });
    expect((await e.append([await signEvent(event(), next.signer)])).status).toBe(201);
  });
});

describe('keys bound to their system-log records', () => {
  async function ready() {
    const e = env();
    await e.registry.createLog(LOG);
    const k = newKey();
    const r = await e.keys.register(ADMIN, APP, { publicKey: k.pem });
    return { ...e, k, stored: r.key };
  }

  it('the store item names its record; the admin API shows where', async () => {
    const e = await ready();
    const stored = await e.keyStore.get(APP, e.k.keyId);
    expect(stored?.recorded).toEqual(await e.sink.find(producerKeyEventId(e.k.keyId, 1)));
    expect(e.stored.recorded).toEqual(stored?.recorded);
    const rv = await e.keys.revoke(ADMIN, APP, e.k.keyId, {});
    expect(rv.key.recorded).toEqual(await e.sink.find(producerKeyEventId(e.k.keyId, 2)));
    // The system-log record carries the key record only, not the store's position.
    expect(e.sink.events.every((x) => !('recorded' in x.changes.after))).toBe(true);
  });

  it('a key put into the store outside the admin path is refused and reported', async () => {
    const e = await ready();
    const rogue = newKey();
    const parsed = parsePublicKey(rogue.pem);
    await e.keyStore.put({
      keyId: parsed.keyId,
      principalId: APP,
      alg: parsed.alg,
      spki: Buffer.from(parsed.spki).toString('base64'),
      notBefore: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
    const err = await e.append([await signEvent(event(), rogue.signer)]).then(
      () => undefined,
      (x: unknown) => x as AppError,
    );
    expect(err?.code).toBe('SIGNATURE_KEY_UNKNOWN');
    expect(err?.path).toBe('/events/0/signature');
    expect(err?.message).toContain('has no record in the system log');
    expect(e.bindingFailures).toMatchObject([{ principalId: APP, keyId: parsed.keyId, version: 1 }]);
    expect(await e.size()).toBe(0);
  });

  it('a store item edited past its record (a revocation undone, a window widened) is refused', async () => {
    const e = await ready();
    await e.keys.revoke(ADMIN, APP, e.k.keyId, {});
    const v2 = await e.keyStore.get(APP, e.k.keyId);
    if (!v2) throw new Error('no v2');
    // An insider writes v3 without the revocation, naming v2's record as its own.
    const { revokedAt: _r, ...unrevoked } = v2;
    await e.keyStore.put({ ...unrevoked, version: 3 });
    e.clock.t += 10;
    const err = await e.append([await signEvent(event(), e.k.signer)]).then(
      () => undefined,
      (x: unknown) => x as AppError,
    );
    expect(err?.code).toBe('SIGNATURE_KEY_UNKNOWN');
    expect(err?.message).toContain('not its registration or revocation');
    expect(await e.size()).toBe(0);
    // Another key, its item changed without a new version: the content differs from its record.
    const k2 = newKey();
    const r2 = await e.keys.register(ADMIN, APP, { publicKey: k2.pem });
    const e2 = env();
    await e2.registry.createLog(LOG);
    for (const ev of e.sink.events) await e2.sink.record(ev);
    const widened = { ...r2.key, notAfter: '2099-01-01T00:00:00.000Z' };
    const { publicKeyPem: _p, status: _s, ...item } = widened;
    await e2.keyStore.put(item);
    const err2 = await e2.append([await signEvent(event(), k2.signer)]).then(
      () => undefined,
      (x: unknown) => x as AppError,
    );
    expect(err2?.code).toBe('SIGNATURE_KEY_UNKNOWN');
    expect(err2?.message).toContain('differs from its system-log record');
    expect(e2.bindingFailures).toHaveLength(1);
  });

  it('an item written before items carried `recorded` is bound through its event id', async () => {
    const e = await ready();
    const e2 = env();
    await e2.registry.createLog(LOG);
    for (const ev of e.sink.events) await e2.sink.record(ev);
    const { recorded: _at, publicKeyPem: _p, status: _s, ...legacy } = e.stored;
    await e2.keyStore.put(legacy);
    expect((await e2.append([await signEvent(event(), e.k.signer)])).status).toBe(201);
    expect(e2.bindingFailures).toEqual([]);
  });
});
