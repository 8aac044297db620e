import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/core/bytes.ts';
import {
  decodePemCertificates,
  parseTimestamp,
  TimestampError,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';
import { opensslTimeMs, REAL_CASES, type RealCase, SHA1_CASES, vectorPath } from './cases.ts';

const read = (p: string) => new Uint8Array(readFileSync(vectorPath(p)));
const pem = (p: string) => decodePemCertificates(readFileSync(vectorPath(p), 'utf8'));

// The code each invalid case is refused with. Locks in *why* we refuse, not
// just that we do; tokens altered after signing fail the CMS signature first.
const EXPECTED_CODE: Record<string, string> = {
  'sigstage-invalid-signature': 'SIGNATURE_INVALID',
  'sigstage-vs-prod-chain': 'UNTRUSTED_ROOT',
  'localtsa-other-instance': 'UNTRUSTED_ROOT',
  'conf-rekor2-timestamp-payload-mismatch_fail': 'IMPRINT_MISMATCH',
  'conf-rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'UNTRUSTED_ROOT',
  'conf-rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'SIGNER_NOT_FOUND',
  'freetsa-2024-token-v1-nocert': 'SIGNATURE_INVALID',
  'freetsa-2024-token-v1-invalid': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithInvalidSignature': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithInvalidSigningCertificateV2': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithMismatchCertHash': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithSHA1CertHash': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithSigningCertificateV2NoCert': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithTSTInfoVersion2': 'MALFORMED',
  'globalsign-2021-TimeStampTokenWithValidAndInvalidSignerInfos': 'MALFORMED',
  'globalsign-2021-TimeStampTokenWithWrongSigningCertificateV2IssuerChoiceTag': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithoutCertificate': 'SIGNER_NOT_FOUND',
  'globalsign-2021-TimeStampTokenWithoutSigningCertificate': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithoutSigningCertificateV2IssuerSerial': 'SIGNATURE_INVALID',
  'globalsign-2021-TimeStampTokenWithInvalidTSTInfo': 'MALFORMED',
  'globalsign-2021-TimeStampTokenWithInvalideContentType': 'MALFORMED',
  'globalsign-2021-SHA1TimeStampToken': 'SIGNATURE_INVALID',
  'globalsign-rejection': 'STATUS_NOT_GRANTED',
  'globalsign-2017-rejection': 'STATUS_NOT_GRANTED',
};

async function run(c: RealCase, allowSha1 = SHA1_CASES.includes(c.name)) {
  return verifyTimestamp(read(c.token), {
    expected: c.data ? { data: read(c.data) } : { digest: fromHex(c.digest ?? '') },
    roots: pem(c.ca),
    untrusted: c.untrusted ? pem(c.untrusted) : [],
    allowSha1,
  });
}

/** Whether a token uses SHA-1 in its imprint, CMS digest or signature algorithm (read from the DER, not the verifier). */
function usesSha1(c: RealCase): boolean {
  const t = parseTimestamp(read(c.token)).token;
  if (!t) return false;
  const sha1Oids = ['1.3.14.3.2.26', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1'];
  return (
    t.tstInfo.hashAlgorithm === 'SHA-1' ||
    sha1Oids.includes(t.signerInfo.digestAlgorithm.algorithmId) ||
    sha1Oids.includes(t.signerInfo.signatureAlgorithm.algorithmId)
  );
}

describe('real-world RFC 3161 time-stamps (shared/vectors/rfc3161-real)', () => {
  it('has 51 cases: 27 valid, 24 invalid', () => {
    expect(REAL_CASES).toHaveLength(51);
    expect(REAL_CASES.filter((c) => c.exit === 0)).toHaveLength(27);
    expect(REAL_CASES.filter((c) => c.exit === 1)).toHaveLength(24);
    expect(Object.keys(EXPECTED_CODE).sort()).toEqual(
      REAL_CASES.filter((c) => c.exit === 1)
        .map((c) => c.name)
        .sort(),
    );
  });

  it('SHA1_CASES are exactly the valid cases that rely on SHA-1', () => {
    const valid = REAL_CASES.filter((c) => c.exit === 0);
    expect(valid.filter(usesSha1).map((c) => c.name)).toEqual(SHA1_CASES);
  });

  it.each(SHA1_CASES)('%s is refused by default (WEAK_HASH)', async (name) => {
    const c = REAL_CASES.find((x) => x.name === name) as RealCase;
    const err = await run(c, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimestampError);
    expect((err as TimestampError).code).toBe('WEAK_HASH');
  });

  const valid = REAL_CASES.filter((c) => c.exit === 0);
  it.each(valid.map((c) => [c.name, c] as const))('%s verifies', async (_n, c) => {
    const r = await run(c);
    expect(r.genTimeMs - (r.genTimeMs % 1000)).toBe(opensslTimeMs(c.genTime ?? ''));
    expect(r.genTime).toBe(new Date(r.genTimeMs).toISOString());
    expect(r.form).toBe(c.form);
    expect(r.serialNumber).toMatch(/^[0-9a-f]+$/);
    expect(r.policy).toMatch(/^\d+(\.\d+)+$/);
    expect(r.chain[0]).toEqual(r.signerCertificate);
    expect(r.chain.length).toBeGreaterThanOrEqual(1);
  });

  const invalid = REAL_CASES.filter((c) => c.exit === 1);
  it.each(invalid.map((c) => [c.name, c] as const))('%s is refused', async (_n, c) => {
    const err = await run(c).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TimestampError);
    expect((err as TimestampError).code).toBe(EXPECTED_CODE[c.name]);
  });

  it('picks the signer by SignerInfo sid, not by position (injected "Spoofed TSA" certificate)', async () => {
    const c = REAL_CASES.find((x) => x.name === 'localtsa-injected-certs') as RealCase;
    const r = await run(c);
    expect(r.signerSubject).toContain('Test TSA Timestamping');
    expect(r.signerSubject).not.toContain('Spoofed');
  });

  it('keeps a negative serial number and accepts a chain expired today but valid at genTime', async () => {
    const c = REAL_CASES.find((x) => x.name === 'sigstore-mock-expired-chain') as RealCase;
    const r = await run(c);
    expect(r.genTime).toBe('2023-02-01T00:00:00.000Z');
    // -0x21524111 in two's complement.
    expect(r.serialNumber).toBe('deadbeef');
    expect(r.tsaName).toBeNull();
  });

  it('reports the imprint algorithm and accuracy', async () => {
    const r = await run(REAL_CASES.find((x) => x.name === 'identrust-2025') as RealCase);
    expect(r.hashAlgorithm).toBe('SHA-512');
    expect(r.chain).toHaveLength(3);
    const s = await run(REAL_CASES.find((x) => x.name === 'digicert-2022-authenticode') as RealCase);
    expect(s.hashAlgorithm).toBe('SHA-1');
  });

  it('refuses a SHA-1 imprint when the caller allows only SHA-2, even with allowSha1', async () => {
    const c = REAL_CASES.find((x) => x.name === 'digicert-2022-authenticode') as RealCase;
    const err = await verifyTimestamp(read(c.token), {
      expected: { data: read(c.data ?? '') },
      roots: pem(c.ca),
      hashAlgorithms: ['SHA-256', 'SHA-384', 'SHA-512'],
      allowSha1: true,
    }).catch((e: unknown) => e);
    expect((err as TimestampError).code).toBe('UNSUPPORTED_ALGORITHM');
  });
});
