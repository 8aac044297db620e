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
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import {
  ProducerKeyService,
  parseSignaturePolicy,
  producerKeyEventId,
  producerKeyReader,
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

function env(policy = '') {
  const clock = new ManualClock({ startMs: T0, stepMs: 1 });
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
      keys: producerKeyReader(keyStore),
      policy: new StaticSignaturePolicy(parseSignaturePolicy(policy)),
    },
  });
  const registry = new LogRegistry({ store: logs, clock });
  const size = async () => (await logs.readTip(LOG)).nextIndex;
  const append = (events: unknown[], submitter = APP) =>
    ingest.append({ logId: LOG, submitter, body: utf8(JSON.stringify({ events })) });
  return { clock, keyStore, sink, logs, keys, ingest, registry, size, append };
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
