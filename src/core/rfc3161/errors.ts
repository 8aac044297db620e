import { AnchorlogError } from '../errors.ts';

/**
 * Why a time-stamp was refused. One code per distinct failure so that callers
 * (the anchor use case, the offline verifier, the CLI) can map each to an
 * action without parsing messages. Tests assert these codes, never the text.
 */
export type TimestampErrorCode =
  /** Not a TimeStampReq/TimeStampResp/ContentInfo we can parse, or a structural RFC 3161 rule broken. */
  | 'MALFORMED'
  /** PKIStatus is not granted(0) or grantedWithMods(1) (RFC 3161 §2.4.2). */
  | 'STATUS_NOT_GRANTED'
  /** messageImprint does not match the expected data or digest. */
  | 'IMPRINT_MISMATCH'
  /** TSTInfo nonce differs from (or lacks) the request nonce. */
  | 'NONCE_MISMATCH'
  /** TSTInfo policy differs from the policy the caller required. */
  | 'POLICY_MISMATCH'
  /** CMS signature, message-digest or content-type attribute does not verify. */
  | 'SIGNATURE_INVALID'
  /** No certificate (token, untrusted or roots) matches the SignerInfo sid. */
  | 'SIGNER_NOT_FOUND'
  /** No signing-certificate(-v2) attribute, or one with an empty certs list. */
  | 'ESS_CERT_ID_MISSING'
  /** The first ESSCertID(v2) does not identify the signer certificate. */
  | 'ESS_CERT_ID_MISMATCH'
  /** Signer EKU is not exactly id-kp-timeStamping, or the extension is not critical. */
  | 'EKU_INVALID'
  /** Signer keyUsage present but allows neither digitalSignature nor nonRepudiation. */
  | 'KEY_USAGE_INVALID'
  /** TSTInfo.tsa names someone other than the signer certificate. */
  | 'TSA_NAME_MISMATCH'
  /** No chain from the signer to a pinned root. */
  | 'UNTRUSTED_ROOT'
  /** A chain exists, but some certificate on it was not valid at genTime. */
  | 'CERT_EXPIRED_AT_GENTIME'
  /** A hash or signature algorithm we do not implement or do not allow. */
  | 'UNSUPPORTED_ALGORITHM'
  /** SHA-1 in the messageImprint, the CMS digest or the signature, and the caller did not allow it (strength.ts). */
  | 'WEAK_HASH'
  /** The caller passed bad arguments (not attacker input). */
  | 'INVALID_ARGUMENT';

export class TimestampError extends AnchorlogError<TimestampErrorCode> {}
