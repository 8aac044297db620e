/**
 * Negative cases built at test time with a real pkijs TSA (src/adapters/memory/tsa-pki.ts):
 * each distinct failure must be refused with its own TimestampError code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  corruptSignature,
  createPki,
  issueToken,
  type MockPki,
  response,
} from '../../../src/adapters/memory/tsa-pki.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import {
  buildTimestampRequest,
  type HashUse,
  parseTimestamp,
  TimestampError,
  type TimestampErrorCode,
  type VerifyTimestampOptions,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';

const DATA = utf8('origin.example/log\n42\nroot-hash-base64\n');
const NONCE = new Uint8Array([0x9a, 1, 2, 3, 4, 5, 6, 7]);

let pki: MockPki;
let otherPki: MockPki;
let goodToken: Uint8Array;

function opts(p: MockPki, extra: Partial<VerifyTimestampOptions> = {}): VerifyTimestampOptions {
  return { expected: { data: DATA }, roots: [p.root.der], nonce: NONCE, ...extra };
}

async function codeOf(promise: Promise<unknown>): Promise<TimestampErrorCode | 'RESOLVED'> {
  try {
    await promise;
    return 'RESOLVED';
  } catch (e) {
    expect(e).toBeInstanceOf(TimestampError);
    return (e as TimestampError).code;
  }
}

beforeAll(async () => {
  [pki, otherPki] = await Promise.all([createPki(), createPki()]);
  goodToken = await issueToken(pki, { data: DATA, nonce: NONCE });
});

describe('verifyTimestamp with a pkijs-built TSA', () => {
  it('accepts a well-formed token and reports its fields', async () => {
    const r = await verifyTimestamp(goodToken, opts(pki));
    expect(r.genTime).toBe('2025-06-01T12:00:00.000Z');
    expect(r.genTimeMs).toBe(Date.UTC(2025, 5, 1, 12));
    expect(r.serialNumber).toBe('2a');
    expect(r.policy).toBe('1.3.6.1.4.1.4146.2.3');
    expect(r.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(r.hashAlgorithm).toBe('SHA-256');
    expect(r.messageImprint).toEqual(sha256(DATA));
    expect(r.nonce).toBe('009a01020304050607');
    expect(r.signerSubject).toBe('O=anchorlog test, CN=Test TSA');
    expect(r.chain).toEqual([pki.tsa.der, pki.intermediate.der, pki.root.der]);
    expect(r.form).toBe('token');
  });

  it('accepts the same token inside a granted TimeStampResp, and by digest', async () => {
    const r = await verifyTimestamp(
      response({ token: goodToken }),
      opts(pki, { expected: { digest: sha256(DATA) } }),
    );
    expect(r.form).toBe('response');
  });

  it('round-trips with a request built by buildTimestampRequest (same nonce, same imprint)', async () => {
    const req = buildTimestampRequest({ imprint: { data: DATA }, nonce: NONCE });
    expect(req.length).toBeGreaterThan(40);
    await expect(
      verifyTimestamp(goodToken, opts(pki, { policy: '1.3.6.1.4.1.4146.2.3' })),
    ).resolves.toBeDefined();
  });

  it('accepts a BER (constructed) eContent as pkijs-based TSAs emit it', async () => {
    const ber = await issueToken(pki, { data: DATA, nonce: NONCE, berEContent: true });
    await expect(verifyTimestamp(ber, opts(pki))).resolves.toBeDefined();
  });

  it('takes the signer and intermediates from `untrusted` when the token embeds none', async () => {
    const bare = await issueToken(pki, { data: DATA, nonce: NONCE, embed: [] });
    expect(await codeOf(verifyTimestamp(bare, opts(pki)))).toBe('SIGNER_NOT_FOUND');
    const r = await verifyTimestamp(bare, opts(pki, { untrusted: [pki.tsa.der, pki.intermediate.der] }));
    expect(r.chain).toHaveLength(3);
  });

  it('ignores a decoy certificate placed first in the certificate bag', async () => {
    const t = await issueToken(pki, {
      data: DATA,
      nonce: NONCE,
      embed: [otherPki.tsa, pki.tsa, pki.intermediate],
    });
    const r = await verifyTimestamp(t, opts(pki));
    expect(r.signerCertificate).toEqual(pki.tsa.der);
  });

  it('judges certificate validity at genTime, not now', async () => {
    const old = await createPki({
      tsaNotBefore: new Date('2020-01-01T00:00:00Z'),
      tsaNotAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const t = await issueToken(old, { data: DATA, genTime: new Date('2020-06-01T00:00:00Z') });
    await expect(verifyTimestamp(t, opts(old, { nonce: undefined }))).resolves.toBeDefined();
  });
});

describe('each failure has its own code', () => {
  it('IMPRINT_MISMATCH: wrong data or wrong digest', async () => {
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { expected: { data: utf8('other') } })))).toBe(
      'IMPRINT_MISMATCH',
    );
    expect(
      await codeOf(verifyTimestamp(goodToken, opts(pki, { expected: { digest: new Uint8Array(32) } }))),
    ).toBe('IMPRINT_MISMATCH');
  });

  it('NONCE_MISMATCH: wrong nonce, or no nonce in the token', async () => {
    const wrong = NONCE.slice();
    wrong[7] = 8;
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { nonce: wrong })))).toBe('NONCE_MISMATCH');
    const noNonce = await issueToken(pki, { data: DATA });
    expect(await codeOf(verifyTimestamp(noNonce, opts(pki)))).toBe('NONCE_MISMATCH');
  });

  it('POLICY_MISMATCH: token issued under another policy', async () => {
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { policy: '1.2.3.4' })))).toBe(
      'POLICY_MISMATCH',
    );
  });

  it('SIGNATURE_INVALID: one bit of the CMS signature flipped', async () => {
    expect(await codeOf(verifyTimestamp(corruptSignature(goodToken), opts(pki)))).toBe('SIGNATURE_INVALID');
  });

  it('EKU_INVALID: timeStamping EKU not critical, with another purpose, or absent', async () => {
    for (const eku of ['non-critical', 'extra-purpose', 'absent'] as const) {
      const p = await createPki({ eku });
      const t = await issueToken(p, { data: DATA, nonce: NONCE });
      expect(await codeOf(verifyTimestamp(t, opts(p))), eku).toBe('EKU_INVALID');
    }
  });

  it('ESS_CERT_ID_MISMATCH / ESS_CERT_ID_MISSING', async () => {
    const wrongEss = await issueToken(pki, { data: DATA, nonce: NONCE, essFor: pki.intermediate });
    expect(await codeOf(verifyTimestamp(wrongEss, opts(pki)))).toBe('ESS_CERT_ID_MISMATCH');
    const noEss = await issueToken(pki, { data: DATA, nonce: NONCE, essFor: null });
    expect(await codeOf(verifyTimestamp(noEss, opts(pki)))).toBe('ESS_CERT_ID_MISSING');
  });

  it('TSA_NAME_MISMATCH: TSTInfo.tsa names someone other than the signer', async () => {
    const named = await issueToken(pki, { data: DATA, nonce: NONCE, tsaCn: 'Test TSA' });
    expect((await verifyTimestamp(named, opts(pki))).tsaName).toBe('O=anchorlog test, CN=Test TSA');
    const spoofed = await issueToken(pki, { data: DATA, nonce: NONCE, tsaCn: 'Spoofed TSA' });
    expect(await codeOf(verifyTimestamp(spoofed, opts(pki)))).toBe('TSA_NAME_MISMATCH');
  });

  it('UNTRUSTED_ROOT: chain ends at a root the caller did not pin', async () => {
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { roots: [otherPki.root.der] })))).toBe(
      'UNTRUSTED_ROOT',
    );
  });

  it('CERT_EXPIRED_AT_GENTIME: TSA certificate expired before genTime', async () => {
    const expired = await createPki({
      tsaNotBefore: new Date('2020-01-01T00:00:00Z'),
      tsaNotAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const t = await issueToken(expired, {
      data: DATA,
      nonce: NONCE,
      genTime: new Date('2022-01-01T00:00:00Z'),
    });
    expect(await codeOf(verifyTimestamp(t, opts(expired)))).toBe('CERT_EXPIRED_AT_GENTIME');
    const early = await issueToken(expired, {
      data: DATA,
      nonce: NONCE,
      genTime: new Date('2019-12-31T00:00:00Z'),
    });
    expect(await codeOf(verifyTimestamp(early, opts(expired)))).toBe('CERT_EXPIRED_AT_GENTIME');
  });

  it('STATUS_NOT_GRANTED: rejection with failInfo and text', async () => {
    const resp = response({ status: 2, failInfoBit: 0, text: 'bad algorithm' });
    const parsed = parseTimestamp(resp);
    expect(parsed.status).toMatchObject({ status: 2, statusName: 'rejection', failInfo: ['badAlg'] });
    expect(parsed.token).toBeNull();
    const err = await verifyTimestamp(resp, opts(pki)).catch((e: TimestampError) => e);
    expect(err).toBeInstanceOf(TimestampError);
    expect((err as TimestampError).code).toBe('STATUS_NOT_GRANTED');
    expect((err as TimestampError).message).toContain('badAlg');
    expect((err as TimestampError).message).toContain('bad algorithm');
  });

  it('UNSUPPORTED_ALGORITHM: imprint hash outside the allowed set', async () => {
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { hashAlgorithms: ['SHA-512'] })))).toBe(
      'UNSUPPORTED_ALGORITHM',
    );
  });

  it('MALFORMED: garbage, empty input, trailing bytes, granted response without a token', async () => {
    expect(await codeOf(verifyTimestamp(utf8('not a time-stamp'), opts(pki)))).toBe('MALFORMED');
    expect(await codeOf(verifyTimestamp(new Uint8Array(0), opts(pki)))).toBe('MALFORMED');
    expect(await codeOf(verifyTimestamp(new Uint8Array([...goodToken, 0]), opts(pki)))).toBe('MALFORMED');
    expect(
      await codeOf(verifyTimestamp(new Uint8Array([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00]), opts(pki))),
    ).toBe('MALFORMED');
  });

  it('INVALID_ARGUMENT: caller passes a non-certificate root or no roots', async () => {
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { roots: [utf8('x')] })))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(verifyTimestamp(goodToken, opts(pki, { roots: [] })))).toBe('INVALID_ARGUMENT');
  });
});

describe('WEAK_HASH: SHA-1 anywhere in a token is refused unless the caller allows it', () => {
  // SHA-1 has had practical collisions since 2017 (SHAttered); a token's
  // security is that of its weakest hash. allowSha1 exists for old real-world
  // tokens (anchorlog timestamp verify --allow-sha1), never for the bundle verifier.
  const cases: Array<[string, Parameters<typeof issueToken>[1], HashUse[]]> = [
    ['a SHA-1 messageImprint', { data: DATA, nonce: NONCE, imprintHash: 'SHA-1' }, ['messageImprint']],
    [
      'a SHA-1 CMS digest (and ecdsa-with-SHA1 signature)',
      { data: DATA, nonce: NONCE, digestHash: 'SHA-1' },
      ['digestAlgorithm', 'signature'],
    ],
    [
      'an ecdsa-with-SHA1 signature next to a SHA-256 CMS digest',
      { data: DATA, nonce: NONCE, signatureHash: 'SHA-1' },
      ['signature'],
    ],
  ];
  it.each(cases)('%s', async (_n, o, uses) => {
    const token = await issueToken(pki, o);
    expect(await codeOf(verifyTimestamp(token, opts(pki)))).toBe('WEAK_HASH');
    expect(await codeOf(verifyTimestamp(token, opts(pki, { allowSha1: false })))).toBe('WEAK_HASH');
    // The token is otherwise valid: with the policy relaxed it verifies, and says where SHA-1 was.
    await expect(verifyTimestamp(token, opts(pki, { allowSha1: true }))).resolves.toMatchObject({
      weakHashes: uses,
    });
  });

  it('a SHA-256 token reports no weak hash', async () => {
    await expect(verifyTimestamp(goodToken, opts(pki))).resolves.toMatchObject({ weakHashes: [] });
  });

  it('a forged SHA-1 token is still refused as forged when SHA-1 is allowed', async () => {
    const token = corruptSignature(await issueToken(pki, { data: DATA, nonce: NONCE, digestHash: 'SHA-1' }));
    expect(await codeOf(verifyTimestamp(token, opts(pki, { allowSha1: true })))).toBe('SIGNATURE_INVALID');
  });
});
