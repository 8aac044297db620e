/**
 * CMS SignedData signature verification for a time-stamp token
 * (RFC 5652 §5.4 message digest, §5.6 signature verification; RFC 3161 §2.4.2).
 *
 * pkijs' SignedData.verify needs the signer inside the token and does not
 * check the content-type attribute's value, so we do the steps ourselves:
 *  1. find candidate signer certificates by SignerInfo `sid` — never by
 *     position (a token may carry decoy certificates, GHSA-3xxc-pwj6-jgrj);
 *  2. content-type attribute present once, equal to id-ct-TSTInfo;
 *  3. message-digest attribute present once, equal to H(eContent);
 *  4. the signature over the DER SET OF signed attributes verifies under the
 *     candidate's public key. The first candidate that verifies is the signer.
 */
import * as asn1js from 'asn1js';
import { type Attribute, IssuerAndSerialNumber } from 'pkijs';
import { bytesEqual } from '../bytes.ts';
import { type CertEntry, extensionsOf, serialBytes } from './certs.ts';
import { cryptoEngine } from './engine.ts';
import { TimestampError } from './errors.ts';
import { digest, hashByOid } from './hashes.ts';
import { OID_ATTR_CONTENT_TYPE, OID_ATTR_MESSAGE_DIGEST, OID_CT_TSTINFO } from './oids.ts';
import type { ParsedToken } from './parse.ts';

// Signature algorithms we accept in SignerInfo.signatureAlgorithm.
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const SIGNATURE_ALGORITHMS = new Set([
  RSA_ENCRYPTION,
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  EC_PUBLIC_KEY,
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
]);

/** The only instance of signed attribute `oid`; a repeated attribute is refused (RFC 5652 §11). */
export function singleAttribute(attrs: readonly Attribute[], oid: string): Attribute | undefined {
  const found = attrs.filter((a) => a.type === oid);
  if (found.length > 1)
    throw new TimestampError('MALFORMED', `signed attribute ${oid} appears more than once`);
  const a = found[0];
  if (a && a.values.length !== 1)
    throw new TimestampError('MALFORMED', `signed attribute ${oid} must have one value`);
  return a;
}

/** RFC 5652 §5.3 SignerIdentifier: does `c` match the SignerInfo's sid? */
function matchesSid(token: ParsedToken, c: CertEntry): boolean {
  const sid = token.signerInfo.sid as unknown;
  if (sid instanceof IssuerAndSerialNumber) {
    return (
      bytesEqual(new Uint8Array(sid.serialNumber.valueBlock.valueHexView), serialBytes(c.cert)) &&
      c.cert.issuer.isEqual(sid.issuer)
    );
  }
  // subjectKeyIdentifier [0] IMPLICIT OCTET STRING: compare with the cert's SKI extension.
  const node = sid as asn1js.AsnType;
  if (!(node instanceof asn1js.BaseBlock) || node.idBlock.tagClass !== 3 || node.idBlock.tagNumber !== 0)
    return false;
  const keyId = new Uint8Array((node as asn1js.Primitive).valueBlock.valueHexView ?? new Uint8Array());
  const ski = extensionsOf(c.cert, '2.5.29.14')[0];
  if (!ski) return false;
  const inner = asn1js.fromBER(ski.extnValue.valueBlock.valueHexView);
  if (inner.offset === -1 || !(inner.result instanceof asn1js.OctetString)) return false;
  return bytesEqual(new Uint8Array(inner.result.valueBlock.valueHexView), keyId);
}

export function signerCandidates(token: ParsedToken, pool: readonly CertEntry[]): CertEntry[] {
  return pool.filter((c) => matchesSid(token, c));
}

/** Steps 2–3: signed attributes bind the signature to this eContent and content type. */
function checkSignedAttributes(token: ParsedToken): void {
  const si = token.signerInfo;
  const attrs = si.signedAttrs?.attributes;
  if (!attrs || attrs.length === 0) {
    throw new TimestampError(
      'MALFORMED',
      'SignerInfo has no signed attributes (RFC 3161 requires ESS attributes)',
    );
  }
  const ct = singleAttribute(attrs, OID_ATTR_CONTENT_TYPE);
  const ctValue = ct?.values[0];
  if (!(ctValue instanceof asn1js.ObjectIdentifier) || ctValue.valueBlock.toString() !== OID_CT_TSTINFO) {
    throw new TimestampError('SIGNATURE_INVALID', 'content-type attribute missing or not id-ct-TSTInfo');
  }
  const hash = hashByOid(si.digestAlgorithm.algorithmId);
  if (!hash) {
    throw new TimestampError('UNSUPPORTED_ALGORITHM', `digest algorithm ${si.digestAlgorithm.algorithmId}`);
  }
  const md = singleAttribute(attrs, OID_ATTR_MESSAGE_DIGEST)?.values[0];
  if (!(md instanceof asn1js.OctetString) || md.idBlock.isConstructed) {
    throw new TimestampError('SIGNATURE_INVALID', 'message-digest attribute missing or not an OCTET STRING');
  }
  if (!bytesEqual(new Uint8Array(md.valueBlock.valueHexView), digest(hash.name, token.eContent))) {
    throw new TimestampError('SIGNATURE_INVALID', 'message-digest attribute does not match the TSTInfo');
  }
}

async function signatureVerifies(token: ParsedToken, signer: CertEntry): Promise<boolean> {
  const si = token.signerInfo;
  const alg = si.signatureAlgorithm.algorithmId;
  const encoded = si.signedAttrs?.encodedValue;
  if (!encoded) return false;
  const hashName = hashByOid(si.digestAlgorithm.algorithmId)?.name;
  try {
    // With a bare key algorithm OID the hash comes from digestAlgorithm (RFC 5754 §3).
    const bareKeyAlg = alg === RSA_ENCRYPTION || alg === EC_PUBLIC_KEY;
    return await cryptoEngine().verifyWithPublicKey(
      encoded,
      si.signature,
      signer.cert.subjectPublicKeyInfo,
      si.signatureAlgorithm,
      bareKeyAlg ? hashName : undefined,
    );
  } catch {
    // Key/algorithm mismatch, bad ECDSA encoding, unsupported curve: not a valid signature.
    return false;
  }
}

/**
 * Verify the token's CMS signature and return the signer certificate.
 * `pool`: every certificate we may take the signer from (token ∪ untrusted ∪ roots).
 */
export async function verifyCmsSignature(token: ParsedToken, pool: readonly CertEntry[]): Promise<CertEntry> {
  const alg = token.signerInfo.signatureAlgorithm.algorithmId;
  if (!SIGNATURE_ALGORITHMS.has(alg))
    throw new TimestampError('UNSUPPORTED_ALGORITHM', `signature algorithm ${alg}`);
  checkSignedAttributes(token);
  const candidates = signerCandidates(token, pool);
  if (candidates.length === 0) {
    throw new TimestampError(
      'SIGNER_NOT_FOUND',
      'no certificate matches the SignerInfo sid (token, untrusted, roots)',
    );
  }
  for (const c of candidates) if (await signatureVerifies(token, c)) return c;
  throw new TimestampError('SIGNATURE_INVALID', 'CMS signature does not verify under the signer certificate');
}
