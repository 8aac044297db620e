/**
 * Finding the root a TSA chain ends at, for building pinned trust
 * (`anchorlog trust`): the self-signed certificate of a chain, i.e. one whose
 * issuer is its own subject and whose signature verifies under its own key
 * (RFC 5280 §6.1 trust anchors are usually such certificates). A chain from a
 * server is untrusted input: this says which certificate is the root, never
 * that the root is trustworthy — that is the auditor's out-of-band comparison.
 */
import { parseCertificate } from './certs.ts';
import { cryptoEngine } from './engine.ts';
import { nameToString } from './names.ts';

export interface ChainRoot {
  readonly der: Uint8Array;
  /** `CN=…, O=…`, for display. */
  readonly subject: string;
}

/** The first self-signed certificate of `chain` (DER), or undefined. Throws TimestampError MALFORMED on a certificate that does not parse. */
export async function selfSignedRoot(chain: readonly Uint8Array[]): Promise<ChainRoot | undefined> {
  for (const [i, der] of chain.entries()) {
    const c = parseCertificate(der, `chain[${i}]`);
    if (!c.cert.subject.isEqual(c.cert.issuer)) continue;
    let ok = false;
    try {
      ok = await c.cert.verify(c.cert, cryptoEngine());
    } catch {
      ok = false;
    }
    if (ok) return { der: c.der, subject: nameToString(c.cert.subject) };
  }
  return undefined;
}
