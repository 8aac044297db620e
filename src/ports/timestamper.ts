/**
 * Timestamper port: one RFC 3161 time-stamping authority (docs/anchoring.md
 * §What is requested and what is kept). Implemented by src/adapters/tsa/http-timestamper.ts.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 *
 * Contract:
 *  - `timestamp` MUST resolve only with a token that has been fully verified
 *    against this TSA's pinned roots by src/core/rfc3161 `verifyTimestamp`:
 *    PKIStatus granted, SHA-256 imprint equal to `query.digest`, nonce equal to
 *    `query.nonce`, CMS signature, ESSCertID(v2), critical id-kp-timeStamping
 *    EKU, chain to a pinned root valid at genTime. Nothing unverified ever
 *    leaves an implementation.
 *  - It MUST reject with exactly one of:
 *      TsaTransportError — we did not get a usable reply (refused, timeout,
 *        HTTP status, wrong content type, oversized reply);
 *      TimestampError (src/core/rfc3161) — we got a reply and it is refused,
 *        with the core's code (STATUS_NOT_GRANTED, IMPRINT_MISMATCH,
 *        NONCE_MISMATCH, UNTRUSTED_ROOT, MALFORMED, …).
 *  - `timestamp` MUST NOT retry on its own: retry policy belongs to the caller
 *    (src/app/anchor.ts), which needs a fresh nonce per attempt.
 */
import { AnchorlogError } from '../core/errors.ts';

export type TsaTransportErrorCode =
  /** Connection refused or reset, DNS failure: the TSA could not be reached. */
  | 'TSA_UNREACHABLE'
  /** No complete reply within the configured timeout. */
  | 'TSA_TIMEOUT'
  /** The TSA answered with a non-2xx HTTP status. */
  | 'TSA_HTTP_STATUS'
  /** 2xx, but not `application/timestamp-reply` (RFC 3161 §3.4). */
  | 'TSA_BAD_CONTENT_TYPE'
  /** The reply exceeded the size cap; reading stopped there. */
  | 'TSA_RESPONSE_TOO_LARGE';

export class TsaTransportError extends AnchorlogError<TsaTransportErrorCode> {
  /** HTTP status, for TSA_HTTP_STATUS. */
  readonly httpStatus: number | undefined;
  /** Whether trying again soon may help (unreachable, timeout, 5xx, 429). */
  readonly retryable: boolean;
  constructor(
    code: TsaTransportErrorCode,
    message: string,
    opts: { httpStatus?: number; retryable: boolean; cause?: unknown },
  ) {
    super(code, message, { cause: opts.cause });
    this.httpStatus = opts.httpStatus;
    this.retryable = opts.retryable;
  }
}

export interface TimestampQuery {
  /** SHA-256 of the data to time-stamp (32 bytes). */
  readonly digest: Uint8Array;
  /** Random nonce, 8 bytes (64 bits, docs/formats.md §Anchors). A fresh one per attempt. */
  readonly nonce: Uint8Array;
}

/** A verified time-stamp. Plain data only. */
export interface VerifiedAnchorToken {
  /** The TSA's configured name. */
  readonly tsa: string;
  /** The TimeStampResp exactly as received (DER): what `openssl ts -verify -in` reads. */
  readonly response: Uint8Array;
  /** The TimeStampToken (CMS ContentInfo) inside it, exact bytes. */
  readonly token: Uint8Array;
  /** Signer certificate first, pinned root last (DER). */
  readonly chain: readonly Uint8Array[];
  /** RFC 3339 UTC with milliseconds. */
  readonly genTime: string;
  readonly genTimeMs: number;
  /** TSTInfo serialNumber, hex of the INTEGER content octets. */
  readonly serialNumber: string;
  /** TSA policy OID. */
  readonly policy: string;
  readonly signerSubject: string;
}

export interface Timestamper {
  /** Stable name of this TSA (config `tsas[].name`); used in archive keys. */
  readonly name: string;
  timestamp(query: TimestampQuery): Promise<VerifiedAnchorToken>;

  /**
   * Re-verifies a TimeStampResp this TSA issued earlier (e.g. one found in the
   * archive after a crash between storing it and recording it): every check of
   * `timestamp` except the nonce, which the caller no longer knows. MUST reject
   * with TimestampError when it does not verify. No network.
   */
  verify(response: Uint8Array, digest: Uint8Array): Promise<VerifiedAnchorToken>;
}
