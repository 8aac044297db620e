/**
 * Hash strength policy for a time-stamp token: SHA-256 or stronger in every
 * hash the token's security rests on, unless the caller explicitly allows
 * SHA-1 (`allowSha1`, for old real-world tokens; docs/anchoring.md).
 *
 * A token is as strong as its weakest hash, and SHA-1 has had practical
 * collisions since 2017 (SHAttered, chosen-prefix in 2020). Three hashes count:
 *  - TSTInfo messageImprint (RFC 3161 §2.4.2): what was time-stamped;
 *  - SignerInfo digestAlgorithm (RFC 5652 §5.3): the message-digest attribute
 *    that binds the TSTInfo to the signed attributes;
 *  - the signature's own hash (RFC 5754 §3; for RSASSA-PSS the params'
 *    hashAlgorithm, whose DEFAULT is SHA-1, RFC 4055 §3.1).
 * Hashes weaker than SHA-1 (MD5, …) are not implemented at all, so they are
 * refused as UNSUPPORTED_ALGORITHM before this runs.
 *
 * Not counted: ESSCertID (v1 is SHA-1 by definition, RFC 2634 §5.4) only
 * selects which certificate is the signer; that certificate must still carry
 * the key the signature verifies under and chain to a pinned root, and
 * substituting another one with the same SHA-1 would take a second preimage.
 */
import * as asn1js from 'asn1js';
import { RSASSAPSSParams } from 'pkijs';
import { TimestampError } from './errors.ts';
import { type HashName, hashByOid } from './hashes.ts';
import type { ParsedToken } from './parse.ts';

const WEAK: ReadonlySet<HashName> = new Set(['SHA-1']);

// Signature algorithms whose OID names the hash (RFC 3279, RFC 5754, RFC 5758).
const SIGNATURE_HASH: Readonly<Record<string, HashName>> = {
  '1.2.840.113549.1.1.5': 'SHA-1', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
  '1.2.840.10045.4.1': 'SHA-1', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
  '1.2.840.10045.4.3.4': 'SHA-512',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The hash a SignerInfo's signature uses, or undefined if it cannot be told (refused later). */
function signatureHash(token: ParsedToken): HashName | undefined {
  const si = token.signerInfo;
  const alg = si.signatureAlgorithm.algorithmId;
  const named = SIGNATURE_HASH[alg];
  if (named) return named;
  if (alg === RSASSA_PSS) {
    const params = si.signatureAlgorithm.algorithmParams;
    // Absent parameters mean every default: SHA-1.
    if (!(params instanceof asn1js.Sequence)) return 'SHA-1';
    let pss: RSASSAPSSParams;
    try {
      pss = new RSASSAPSSParams({ schema: params });
    } catch (cause) {
      throw new TimestampError('MALFORMED', 'RSASSA-PSS parameters do not parse', { cause });
    }
    return hashByOid(pss.hashAlgorithm.algorithmId)?.name;
  }
  // rsaEncryption / id-ecPublicKey: the hash is digestAlgorithm's (checked separately).
  return undefined;
}

/** Where a token may use a hash. */
export type HashUse = 'digestAlgorithm' | 'signature' | 'messageImprint';

/** The places where `token` relies on SHA-1, in the order they are checked. */
export function weakHashUses(token: ParsedToken): HashUse[] {
  const weak = (h: HashName | undefined) => h !== undefined && WEAK.has(h);
  const uses: HashUse[] = [];
  if (weak(hashByOid(token.signerInfo.digestAlgorithm.algorithmId)?.name)) uses.push('digestAlgorithm');
  if (weak(signatureHash(token))) uses.push('signature');
  if (weak(token.tstInfo.hashAlgorithm)) uses.push('messageImprint');
  return uses;
}

/** Throws WEAK_HASH when the token relies on SHA-1 and the caller did not allow it; returns the weak uses. */
export function checkHashStrength(token: ParsedToken, allowSha1: boolean): HashUse[] {
  const uses = weakHashUses(token);
  if (uses.length > 0 && !allowSha1)
    throw new TimestampError(
      'WEAK_HASH',
      `the token uses SHA-1 (${uses.join(', ')}); SHA-256 or stronger is required`,
    );
  return uses;
}
