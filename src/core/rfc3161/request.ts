/**
 * TimeStampReq (RFC 3161 §2.4.1), as anchorlog sends it (docs/anchoring.md §What is requested and what is kept):
 * version 1, SHA-256 messageImprint, a random nonce, certReq TRUE (so the
 * token carries the TSA certificate), optional reqPolicy, no extensions.
 *
 * Pure: the caller supplies the nonce bytes (from its randomness source),
 * so requests are reproducible in tests.
 */
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, TimeStampReq } from 'pkijs';
import { TimestampError } from './errors.ts';
import { digest, hashByName } from './hashes.ts';
import { unsignedToDerInteger } from './integer.ts';

export type Imprint = { readonly data: Uint8Array } | { readonly digest: Uint8Array };

export interface TimestampRequestInput {
  /** What to time-stamp: the data (hashed here with SHA-256) or its SHA-256 digest. */
  readonly imprint: Imprint;
  /** Random nonce, 8..32 bytes, read as an unsigned big-endian integer. 8 bytes = the 64-bit nonce of docs/formats.md §Anchors. */
  readonly nonce: Uint8Array;
  /** reqPolicy OID, when the TSA offers several policies. */
  readonly policy?: string;
  /** Default true: we need the TSA certificate in the token to verify it offline. */
  readonly certReq?: boolean;
}

const OID_RE = /^[0-2](\.(0|[1-9]\d*))+$/;

export function imprintDigest(imprint: Imprint): Uint8Array {
  const sha256 = hashByName('SHA-256');
  if ('data' in imprint) return digest('SHA-256', imprint.data);
  if (imprint.digest.length !== sha256.size) {
    throw new TimestampError(
      'INVALID_ARGUMENT',
      `SHA-256 digest must be 32 bytes, got ${imprint.digest.length}`,
    );
  }
  return imprint.digest;
}

/** DER of a TimeStampReq. */
export function buildTimestampRequest(input: TimestampRequestInput): Uint8Array {
  if (input.nonce.length < 8 || input.nonce.length > 32) {
    throw new TimestampError('INVALID_ARGUMENT', 'nonce must be 8..32 random bytes');
  }
  if (input.policy !== undefined && !OID_RE.test(input.policy)) {
    throw new TimestampError('INVALID_ARGUMENT', `policy ${JSON.stringify(input.policy)} is not an OID`);
  }
  const req = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({
        algorithmId: hashByName('SHA-256').oid,
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprintDigest(input.imprint).slice().buffer }),
    }),
    nonce: new asn1js.Integer({ valueHex: unsignedToDerInteger(input.nonce).slice().buffer }),
    certReq: input.certReq ?? true,
    ...(input.policy !== undefined ? { reqPolicy: input.policy } : {}),
  });
  return new Uint8Array(req.toSchema().toBER(false));
}
