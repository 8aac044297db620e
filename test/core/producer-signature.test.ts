/**
 * Producer signatures (src/core/producer-signature.ts, src/core/producer-key.ts):
 * sign/verify round trips for both algorithms, any flipped bit fails, both
 * verifiers agree, keys parse from PEM and JWK to one id, and the event's
 * `signature` member has exactly one accepted spelling.
 */
import { generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64, toBase64Url } from '../../src/core/bytes.ts';
import { type AuditEvent, EventValidationError, validateEvent } from '../../src/core/event.ts';
import {
  keyStatusAt,
  ProducerKeyError,
  type ProducerKeyRecord,
  parsePublicKey,
  type SignatureAlg,
} from '../../src/core/producer-key.ts';
import {
  defaultSignatureVerifier,
  type EventSigner,
  SignatureError,
  signEvent,
  signingBytes,
  verifyEventSignature,
  webCryptoVerifier,
} from '../../src/core/producer-signature.ts';

function keyPair(alg: SignatureAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'Ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function setup(alg: SignatureAlg) {
  const { privateKey, publicKey } = keyPair(alg);
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const parsed = parsePublicKey(pem);
  const signer: EventSigner = {
    keyId: parsed.keyId,
    alg,
    sign: async (m) =>
      new Uint8Array(
        alg === 'Ed25519'
          ? nodeSign(null, m, privateKey)
          : nodeSign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
  const record: ProducerKeyRecord = {
    keyId: parsed.keyId,
    principalId: 'app-1',
    alg,
    spki: toBase64(parsed.spki),
    notBefore: '2026-01-01T00:00:00.000Z',
    version: 1,
  };
  return { privateKey, publicKey, pem, parsed, signer, record };
}

const ED = setup('Ed25519');
const EC = setup('ES256');
const AT = Date.parse('2026-06-01T00:00:00.000Z');

const eventArb: fc.Arbitrary<AuditEvent> = fc
  .record({
    action: fc.constantFrom('tool.call', 'agent.task.submit', 'access.grant'),
    actorId: fc.stringMatching(/^[a-z0-9:-]{1,20}$/),
    outcome: fc.constantFrom('success', 'failure', 'denied' as const),
    meta: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string(), fc.boolean())),
  })
  .map(
    ({ action, actorId, outcome, meta }) =>
      validateEvent({
        occurredAt: '2026-05-01T10:00:00.000Z',
        actor: { type: 'service', id: actorId },
        action,
        outcome,
        metadata: meta,
      }) as AuditEvent,
  );

describe('sign and verify', () => {
  for (const k of [ED, EC]) {
    it(`${k.parsed.alg}: a signed event verifies, with node:crypto and with WebCrypto`, async () => {
      await fc.assert(
        fc.asyncProperty(eventArb, async (event) => {
          const signed = await signEvent(event, k.signer);
          // The signed event is a valid Event v1, and re-validating keeps it byte-for-byte.
          expect(signingBytes(validateEvent(signed))).toEqual(signingBytes(event));
          await verifyEventSignature(signed, k.record, AT, defaultSignatureVerifier);
          await verifyEventSignature(signed, k.record, AT, webCryptoVerifier());
        }),
        { numRuns: 25 },
      );
    });

    it(`${k.parsed.alg}: any flipped bit of the signature, or any change to the event, fails SIGNATURE_INVALID`, async () => {
      const event = validateEvent({
        occurredAt: '2026-05-01T10:00:00.000Z',
        actor: { type: 'service', id: 'svc' },
        action: 'tool.call',
        outcome: 'success',
      });
      const signed = await signEvent(event, k.signer);
      const sig = fromBase64Url(signed.signature?.sig ?? '');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 64 * 8 - 1 }), async (bit) => {
          const bad = sig.slice();
          bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
          const tampered = {
            ...signed,
            signature: {
              ...(signed.signature as NonNullable<AuditEvent['signature']>),
              sig: toBase64Url(bad),
            },
          };
          await expect(
            verifyEventSignature(tampered, k.record, AT, defaultSignatureVerifier),
          ).rejects.toMatchObject({
            code: 'SIGNATURE_INVALID',
          });
        }),
        { numRuns: 40 },
      );
      for (const changed of [
        { ...signed, outcome: 'failure' as const },
        { ...signed, actor: { type: 'service' as const, id: 'svc2' } },
        { ...signed, metadata: {} },
      ]) {
        const err = await verifyEventSignature(changed, k.record, AT, webCryptoVerifier()).catch((e) => e);
        expect(err).toBeInstanceOf(SignatureError);
        expect(err.code).toBe('SIGNATURE_INVALID');
      }
    });
  }

  it('a signature made with another key, or naming another algorithm, is refused', async () => {
    const event = validateEvent({
      occurredAt: '2026-05-01T10:00:00.000Z',
      actor: { type: 'service', id: 's' },
      action: 'a.b',
      outcome: 'success',
    });
    const byOther = await signEvent(event, { ...setup('Ed25519').signer, keyId: ED.parsed.keyId });
    await expect(
      verifyEventSignature(byOther, ED.record, AT, defaultSignatureVerifier),
    ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    const signed = await signEvent(event, ED.signer);
    const wrongAlg = {
      ...signed,
      signature: { ...(signed.signature as NonNullable<AuditEvent['signature']>), alg: 'ES256' as const },
    };
    await expect(
      verifyEventSignature(wrongAlg, ED.record, AT, defaultSignatureVerifier),
    ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(verifyEventSignature(signed, undefined, AT, defaultSignatureVerifier)).rejects.toMatchObject(
      { code: 'SIGNATURE_KEY_UNKNOWN' },
    );
    await expect(verifyEventSignature(event, ED.record, AT, defaultSignatureVerifier)).rejects.toMatchObject({
      code: 'SIGNATURE_REQUIRED',
    });
  });

  it('ECDSA: the high-s twin of a signature also verifies (documented: the chain, not the encoding, fixes the record)', async () => {
    const event = validateEvent({
      occurredAt: '2026-05-01T10:00:00.000Z',
      actor: { type: 'service', id: 's' },
      action: 'a.b',
      outcome: 'success',
    });
    const signed = await signEvent(event, EC.signer);
    const raw = fromBase64Url(signed.signature?.sig ?? '');
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const s = BigInt(`0x${Buffer.from(raw.subarray(32)).toString('hex')}`);
    const twin = new Uint8Array(64);
    twin.set(raw.subarray(0, 32));
    twin.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
    const other = {
      ...signed,
      signature: { ...(signed.signature as NonNullable<AuditEvent['signature']>), sig: toBase64Url(twin) },
    };
    await verifyEventSignature(other, EC.record, AT, defaultSignatureVerifier);
  });
});

describe('keys', () => {
  it('PEM and JWK of one key have one id; private JWKs and other curves are refused', () => {
    for (const k of [ED, EC]) {
      const jwk = k.publicKey.export({ format: 'jwk' });
      expect(parsePublicKey(jwk).keyId).toBe(k.parsed.keyId);
      expect(() => parsePublicKey(k.privateKey.export({ format: 'jwk' }))).toThrow(ProducerKeyError);
    }
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      format: 'pem',
      type: 'spki',
    });
    expect(() => parsePublicKey(p384.toString())).toThrow(ProducerKeyError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'pem',
      type: 'spki',
    });
    expect(() => parsePublicKey(rsa.toString())).toThrow(ProducerKeyError);
    expect(() => parsePublicKey('not a key')).toThrow(ProducerKeyError);
  });

  it('checkKey refuses a P-256 point that is not on the curve', async () => {
    const spki = EC.parsed.spki.slice();
    spki[spki.length - 1] = (spki[spki.length - 1] as number) ^ 1;
    for (const v of [defaultSignatureVerifier, webCryptoVerifier()]) {
      expect(await v.checkKey('ES256', EC.parsed.spki)).toBe(true);
      expect(await v.checkKey('ES256', spki)).toBe(false);
      expect(await v.checkKey('Ed25519', EC.parsed.spki)).toBe(false);
    }
  });

  it('rotation with overlap: both keys are active in the overlap, each outside its own window is not', () => {
    const old = { notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-03-31T23:59:59.999Z' };
    const next = { notBefore: '2026-03-01T00:00:00.000Z' };
    const t = (s: string) => Date.parse(s);
    expect(keyStatusAt(old, t('2026-03-15T00:00:00.000Z'))).toBe('active');
    expect(keyStatusAt(next, t('2026-03-15T00:00:00.000Z'))).toBe('active');
    expect(keyStatusAt(next, t('2026-02-15T00:00:00.000Z'))).toBe('not-yet-valid');
    expect(keyStatusAt(old, t('2026-04-01T00:00:00.000Z'))).toBe('expired');
    expect(
      keyStatusAt({ ...next, revokedAt: '2026-05-01T00:00:00.000Z' }, t('2026-05-01T00:00:00.000Z')),
    ).toBe('revoked');
    expect(
      keyStatusAt({ ...next, revokedAt: '2026-05-01T00:00:00.000Z' }, t('2026-04-30T23:59:59.999Z')),
    ).toBe('active');
  });
});

describe('the signature member of Event v1', () => {
  const base = {
    occurredAt: '2026-05-01T10:00:00.000Z',
    actor: { type: 'service', id: 's' },
    action: 'a.b',
    outcome: 'success',
  };
  const good = { keyId: ED.parsed.keyId, alg: 'Ed25519', sig: toBase64Url(new Uint8Array(64)) };
  const refused = (signature: unknown) => {
    try {
      validateEvent({ ...base, signature }, '/events/0');
    } catch (e) {
      expect(e).toBeInstanceOf(EventValidationError);
      return (e as EventValidationError).path;
    }
    return undefined;
  };

  it('accepts the three fields and refuses every other spelling, naming the field', () => {
    expect(validateEvent({ ...base, signature: good }).signature).toEqual(good);
    expect(refused({ ...good, extra: 1 })).toBe('/events/0/signature/extra');
    expect(refused({ ...good, alg: 'RS256' })).toBe('/events/0/signature/alg');
    expect(refused({ ...good, keyId: `${good.keyId}=` })).toBe('/events/0/signature/keyId');
    // Padded, standard-alphabet and non-canonical trailing bits: one byte string, one text.
    expect(refused({ ...good, sig: `${good.sig}==` })).toBe('/events/0/signature/sig');
    expect(refused({ ...good, sig: `${good.sig.slice(0, 85)}B` })).toBe('/events/0/signature/sig');
    expect(refused({ ...good, sig: toBase64Url(new Uint8Array(72)) })).toBe('/events/0/signature/sig');
    expect(refused({ keyId: good.keyId, alg: 'Ed25519' })).toBe('/events/0/signature/sig');
  });
});
