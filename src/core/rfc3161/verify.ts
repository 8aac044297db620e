/**
 * Full verification of an RFC 3161 time-stamp, offline, as a chain of small
 * checks that each throw a TimestampError with its own code:
 *
 *   parse → status → hash strength → signature (CMS) → ESSCertID →
 *   signer EKU/keyUsage → TSA name → chain to a pinned root at genTime →
 *   imprint → nonce → policy
 *
 * Authenticity checks run before content checks, so a forged token is reported
 * as forged rather than as "wrong data". The result carries only plain data
 * (strings, numbers, bytes) — no Date, no pkijs objects.
 */
import { toHex } from '../bytes.ts';
import { type CertEntry, parseCertificate, uniqueCerts } from './certs.ts';
import { buildChain } from './chain.ts';
import { verifyCmsSignature } from './cms.ts';
import { TimestampError } from './errors.ts';
import { checkEssCertId } from './ess.ts';
import { ALL_HASHES, digest, type HashName, hashByName } from './hashes.ts';
import { derIntegerValue, unsignedValue } from './integer.ts';
import { nameToString } from './names.ts';
import { type ParsedTimestamp, type ParsedToken, parseTimestamp } from './parse.ts';
import type { Imprint } from './request.ts';
import { checkSignerKeyUsage, checkTimestampingEku, checkTsaName } from './signer.ts';
import { assertGranted } from './status.ts';
import { checkHashStrength, type HashUse } from './strength.ts';
import type { Accuracy } from './tstinfo.ts';

export interface VerifyTimestampOptions {
  /** What the token must time-stamp: the data (hashed with the token's algorithm) or the digest itself. */
  readonly expected: Imprint;
  /** Pinned trust anchors (DER). At least one. */
  readonly roots: readonly Uint8Array[];
  /** Extra certificates (DER) usable as signer or intermediates; not trusted. */
  readonly untrusted?: readonly Uint8Array[];
  /** The request nonce (the bytes given to buildTimestampRequest); when set, the token must echo it. */
  readonly nonce?: Uint8Array;
  /** Required TSA policy OID. */
  readonly policy?: string;
  /**
   * Allowed messageImprint hashes; default SHA-1, SHA-256, SHA-384, SHA-512
   * (as OpenSSL accepts), but SHA-1 anywhere also needs `allowSha1`.
   */
  readonly hashAlgorithms?: readonly HashName[];
  /**
   * Accept SHA-1 in the messageImprint, the CMS digest and the signature
   * (strength.ts). Default false: such tokens are refused with WEAK_HASH.
   */
  readonly allowSha1?: boolean;
}

export interface VerifiedTimestamp {
  readonly genTime: string;
  readonly genTimeMs: number;
  readonly serialNumber: string;
  readonly policy: string;
  readonly accuracy: Accuracy | null;
  readonly ordering: boolean;
  /** Nonce as hex of the INTEGER content octets, or null. */
  readonly nonce: string | null;
  /** TSTInfo.tsa when present, rendered as text; null when absent. */
  readonly tsaName: string | null;
  /** Subject of the signer certificate (selected by SignerInfo sid). */
  readonly signerSubject: string;
  readonly signerCertificate: Uint8Array;
  /** Signer first, pinned root last. */
  readonly chain: readonly Uint8Array[];
  readonly hashAlgorithm: HashName;
  readonly messageImprint: Uint8Array;
  /** Whether the input was a TimeStampResp or a bare token. */
  readonly form: 'response' | 'token';
  /** Where the token relies on SHA-1; non-empty only when the caller allowed it (`allowSha1`). */
  readonly weakHashes: readonly HashUse[];
}

function checkImprint(token: ParsedToken, options: VerifyTimestampOptions): HashName {
  const tst = token.tstInfo;
  const allowed = options.hashAlgorithms ?? ALL_HASHES;
  if (!tst.hashAlgorithm || !allowed.includes(tst.hashAlgorithm)) {
    throw new TimestampError(
      'UNSUPPORTED_ALGORITHM',
      `messageImprint hash ${tst.hashAlgorithmOid} is not allowed`,
    );
  }
  const expected = options.expected;
  const want = 'data' in expected ? digest(tst.hashAlgorithm, expected.data) : expected.digest;
  const size = hashByName(tst.hashAlgorithm).size;
  if (tst.messageImprint.length !== size) {
    throw new TimestampError(
      'MALFORMED',
      `messageImprint is ${tst.messageImprint.length} bytes, ${tst.hashAlgorithm} is ${size}`,
    );
  }
  if (want.length !== size || toHex(want) !== toHex(tst.messageImprint)) {
    throw new TimestampError(
      'IMPRINT_MISMATCH',
      `messageImprint (${tst.hashAlgorithm}) does not match the expected data`,
    );
  }
  return tst.hashAlgorithm;
}

// RFC 3161 §2.4.2: "MUST be present if the nonce field was present in the TimeStampReq", same value.
function checkNonce(token: ParsedToken, nonce: Uint8Array | undefined): void {
  if (nonce === undefined) return;
  const got = token.tstInfo.nonce;
  if (!got) throw new TimestampError('NONCE_MISMATCH', 'token has no nonce but the request had one');
  if (derIntegerValue(got) !== unsignedValue(nonce)) {
    throw new TimestampError('NONCE_MISMATCH', 'token nonce differs from the request nonce');
  }
}

function checkPolicy(token: ParsedToken, policy: string | undefined): void {
  if (policy !== undefined && token.tstInfo.policy !== policy) {
    throw new TimestampError('POLICY_MISMATCH', `TSA policy ${token.tstInfo.policy}, required ${policy}`);
  }
}

function callerCerts(list: readonly Uint8Array[], what: string): CertEntry[] {
  return list.map((der, i) => parseCertificate(der, `${what}[${i}]`, 'INVALID_ARGUMENT'));
}

async function verifyParsed(
  parsed: ParsedTimestamp,
  options: VerifyTimestampOptions,
): Promise<VerifiedTimestamp> {
  assertGranted(parsed.status);
  const token = parsed.token;
  if (!token) throw new TimestampError('MALFORMED', 'no time-stamp token');
  if (options.roots.length === 0) throw new TimestampError('INVALID_ARGUMENT', 'no trust roots given');
  const roots = callerCerts(options.roots, 'roots');
  const untrusted = callerCerts(options.untrusted ?? [], 'untrusted');
  const intermediates = uniqueCerts(token.certificates, untrusted);

  const weakHashes = checkHashStrength(token, options.allowSha1 === true);
  const signer = await verifyCmsSignature(token, uniqueCerts(token.certificates, untrusted, roots));
  checkEssCertId(token.signerInfo, signer);
  checkTimestampingEku(signer);
  checkSignerKeyUsage(signer);
  checkTsaName(token.tstInfo.raw, signer);
  const chain = await buildChain({ signer, roots, intermediates, atMs: token.tstInfo.genTimeMs });

  const hashAlgorithm = checkImprint(token, options);
  checkNonce(token, options.nonce);
  checkPolicy(token, options.policy);

  const tst = token.tstInfo;
  return {
    genTime: tst.genTime,
    genTimeMs: tst.genTimeMs,
    serialNumber: tst.serialNumber,
    policy: tst.policy,
    accuracy: tst.accuracy,
    ordering: tst.ordering,
    nonce: tst.nonce ? toHex(tst.nonce) : null,
    tsaName: tst.tsaName,
    signerSubject: nameToString(signer.cert.subject),
    signerCertificate: signer.der,
    chain: chain.map((c) => c.der),
    hashAlgorithm,
    messageImprint: tst.messageImprint,
    form: parsed.form,
    weakHashes,
  };
}

/**
 * Verify a TimeStampResp or bare TimeStampToken (DER) against pinned roots.
 * Resolves with the verified TSTInfo fields; rejects only with TimestampError.
 */
export async function verifyTimestamp(
  input: Uint8Array | ParsedTimestamp,
  options: VerifyTimestampOptions,
): Promise<VerifiedTimestamp> {
  try {
    const parsed = input instanceof Uint8Array ? parseTimestamp(input) : input;
    return await verifyParsed(parsed, options);
  } catch (e) {
    if (e instanceof TimestampError) throw e;
    // A pkijs/asn1js/WebCrypto failure on hostile input we did not anticipate:
    // still a refusal, never an unexpected exception type.
    const detail = e instanceof Error ? e.message : String(e);
    throw new TimestampError('MALFORMED', `time-stamp could not be processed: ${detail}`, { cause: e });
  }
}
