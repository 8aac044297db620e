/**
 * The Timestamper contract (src/ports/timestamper.ts), run against every
 * implementation by test/contracts/memory.test.ts (MemoryTimestamper, both
 * key families) and aws.test.ts (HttpTimestamper against the OpenSSL TSAs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hash.ts';
import { decodePemCertificates, TimestampError, verifyTimestamp } from '../../src/core/rfc3161/index.ts';
import type { Timestamper } from '../../src/ports/timestamper.ts';

export interface TimestamperUnderTest {
  /** Named `contract-tsa`, pinned to `rootsPem`, time-stamping with the system clock. */
  readonly timestamper: Timestamper;
  readonly rootsPem: string;
}

let nonceCounter = 0;
const freshNonce = () => {
  const n = crypto.getRandomValues(new Uint8Array(8));
  n[7] = ++nonceCounter;
  return n;
};

export function timestamperContract(name: string, make: () => Promise<TimestamperUnderTest>): void {
  describe(`Timestamper contract: ${name}`, () => {
    let t: Timestamper;
    let roots: Uint8Array[];
    const digest = sha256(utf8('contract.test/log\n42\nAAAA\n\n— sig\n'));
    beforeAll(async () => {
      const u = await make();
      t = u.timestamper;
      roots = decodePemCertificates(u.rootsPem);
    });

    it('resolves only with a token verified over the digest, chained to the pinned root', async () => {
      const before = Date.now();
      const got = await t.timestamp({ digest, nonce: freshNonce() });
      expect(t.name).toBe('contract-tsa');
      expect(got.tsa).toBe('contract-tsa');
      expect(got.token.length).toBeGreaterThan(0);
      expect(got.token.length).toBeLessThan(got.response.length);
      expect(got.chain.length).toBeGreaterThanOrEqual(2);
      expect(roots.some((r) => bytesEqual(r, got.chain.at(-1) ?? new Uint8Array()))).toBe(true);
      expect(got.genTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(got.genTime)).toBe(got.genTimeMs);
      expect(Math.abs(got.genTimeMs - before)).toBeLessThan(120_000);
      expect(got.serialNumber).toMatch(/^[0-9a-f]+$/);
      // Only the first arc: the core renders 128-bit arcs (the OpenSSL TSAs'
      // 2.25.… policy) through asn1js, not in decimal (test/adapters/tsa-http.test.ts).
      expect(got.policy).toMatch(/^[0-2]\./);
      expect(got.signerSubject.length).toBeGreaterThan(0);
      // The reply verifies on its own, offline, as a bundle verifier would check it.
      const again = await verifyTimestamp(got.response, { expected: { digest }, roots });
      expect(again.serialNumber).toBe(got.serialNumber);
      expect(again.form).toBe('response');
    });

    it('each token has its own serial number', async () => {
      const a = await t.timestamp({ digest, nonce: freshNonce() });
      const b = await t.timestamp({ digest, nonce: freshNonce() });
      expect(a.serialNumber).not.toBe(b.serialNumber);
    });

    it('verify re-checks a stored reply without its nonce, and only for its digest', async () => {
      const got = await t.timestamp({ digest, nonce: freshNonce() });
      const v = await t.verify(got.response, digest);
      expect(v).toMatchObject({ tsa: 'contract-tsa', serialNumber: got.serialNumber, genTime: got.genTime });
      expect(bytesEqual(v.token, got.token)).toBe(true);
      const other = await t.verify(got.response, sha256(utf8('other'))).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(TimestampError);
      expect(other).toMatchObject({ code: 'IMPRINT_MISMATCH' });
      const junk = await t.verify(utf8('not a reply'), digest).catch((e: unknown) => e);
      expect(junk).toBeInstanceOf(TimestampError);
      expect(junk).toMatchObject({ code: 'MALFORMED' });
      // A bare token is not what a TSA sends.
      const bare = await t.verify(got.token, digest).catch((e: unknown) => e);
      expect(bare).toBeInstanceOf(TimestampError);
    });
  });
}
