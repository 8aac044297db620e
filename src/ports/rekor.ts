/**
 * Rekor port: one Rekor v2 transparency log as the anchor job's client sees it
 * (docs/anchoring.md §Rekor; rekor-tiles `POST /api/v2/log/entries`). Implemented by
 * src/adapters/rekor/http-rekor.ts (HTTP) and src/adapters/memory/rekor.ts (in process, the
 * same log code as the local stand-in, src/local/rekor.ts).
 *
 * Contract:
 *  - `createEntry` sends exactly one CreateEntry request for a hashedrekord v0.0.2 (digest,
 *    DER ECDSA signature over it, the P-256 SPKI that made it) and resolves the reply body as
 *    received: a TransparencyLogEntry, NOT verified. The caller parses and verifies it with the
 *    core (src/core/rekor) against the Rekor keys it pins: a reply is attacker-controlled, and
 *    the adapter holds no trust policy. It MUST NOT retry on its own.
 *  - Every other outcome rejects with a RekorCallError whose code names it; nothing else.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

export type RekorCallErrorCode =
  /** 400: the log refused the request (bad signature, unsupported key). */
  | 'REKOR_BAD_REQUEST'
  /** 409: the log already holds this entry (rekor-tiles deduplication); it does not return it. */
  | 'REKOR_DUPLICATE'
  /** Any other non-201 status (5xx, 429, redirects…). */
  | 'REKOR_HTTP_STATUS'
  /** No complete reply within the deadline. */
  | 'REKOR_TIMEOUT'
  /** Connection refused, reset, DNS… */
  | 'REKOR_UNREACHABLE'
  /** A 201 reply that is too large or not a JSON document. */
  | 'REKOR_BAD_RESPONSE';

export class RekorCallError extends AnchorlogError<RekorCallErrorCode> {
  readonly httpStatus: number | undefined;
  /** True when the same request may succeed later unchanged (timeouts, 5xx, 429). */
  readonly retryable: boolean;
  constructor(
    code: RekorCallErrorCode,
    message: string,
    opts: { httpStatus?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.httpStatus = opts.httpStatus;
    this.retryable = opts.retryable ?? false;
  }
}

export interface RekorEntryRequest {
  /** SHA-256 of the submitted data (for anchorlog: of the whole signed checkpoint file). */
  readonly digest: Uint8Array;
  /** DER ECDSA P-256 signature over `digest`. */
  readonly signature: Uint8Array;
  /** DER SPKI of the P-256 key that made `signature`. */
  readonly spki: Uint8Array;
}

export interface RekorLog {
  /** Configured party name (key-safe): archive keys, metrics, attestations. */
  readonly name: string;
  /** One CreateEntry; resolves the reply body (a TransparencyLogEntry, unverified). */
  createEntry(request: RekorEntryRequest): Promise<Uint8Array>;
}
