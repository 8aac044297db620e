/**
 * AnchorStore port: the hot, queryable record of which TSAs have time-stamped
 * which checkpoint (docs/anchoring.md §What is requested and what is kept). The tokens themselves are also in
 * the WORM archive (`logs/<logId>/anchors/<size>/…`), which stays the record
 * of truth; this store is what the anchor job and the read API consult.
 * Implemented by src/adapters/aws/dynamo-anchor-store.ts. Every method MUST
 * reject only with an AnchorStoreError (below) for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

/**
 * Errors an anchor store raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL). A refused conditional write is not an error:
 * the methods resolve false.
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 */
export type AnchorStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class AnchorStoreError extends AnchorlogError<AnchorStoreErrorCode> {}

/** Why a TSA has no token for a checkpoint yet (a TsaTransportError, TimestampError or store code). */
export interface AnchorFailure {
  readonly code: string;
  readonly message: string;
}

export interface TsaAnchorRecord {
  readonly logId: string;
  readonly size: number;
  readonly tsa: string;
  readonly status: 'granted' | 'failed';
  /** Requests sent to this TSA for this checkpoint, over all runs. */
  readonly attempts: number;
  /** Epoch ms of the last change (injected clock). */
  readonly updatedAt: number;
  /** Set when granted. */
  readonly granted?: {
    readonly genTime: string;
    readonly serialNumber: string;
    readonly policy: string;
    readonly signerSubject: string;
    /** TimeStampToken (CMS ContentInfo) DER. */
    readonly token: Uint8Array;
    /** Signer certificate first, pinned root last, PEM. */
    readonly chainPem: string;
    /** Archive keys of the TimeStampResp and the chain. */
    readonly responseKey: string;
    readonly chainKey: string;
  };
  /** Set when failed: the last failure. */
  readonly failure?: AnchorFailure;
  /**
   * True when read from where anchors lived before issue #11 (a partition
   * other roles could write). Shown to readers, never trusted by the anchor
   * job: it re-adopts the token from the archive instead.
   */
  readonly legacy?: boolean;
}

export interface AnchorSummary {
  readonly logId: string;
  readonly size: number;
  /** The signed checkpoint text that was time-stamped (SHA-256 of it is the imprint). */
  readonly checkpoint: string;
  /** k of the k-of-n policy when last evaluated. */
  readonly quorum: number;
  /** n: TSAs configured when last evaluated. */
  readonly tsaCount: number;
  readonly granted: number;
  readonly quorumMet: boolean;
  readonly updatedAt: number;
  /** As TsaAnchorRecord.legacy. */
  readonly legacy?: boolean;
}

export interface AnchorsAtSize {
  readonly summary: AnchorSummary | undefined;
  /** Sorted by TSA name. */
  readonly tsas: readonly TsaAnchorRecord[];
}

export interface AnchorStore {
  /**
   * Consistent read of everything recorded for (logId, size). What it says
   * is an index for readers, not evidence: the anchor job counts a granted
   * record only when the token at its archive key verifies over the
   * checkpoint (src/app/anchor.ts). When nothing
   * is recorded for the size at the current location, a store MAY fall back,
   * read-only, to a legacy location and MUST then mark what it returns `legacy`.
   */
  read(logId: string, size: number): Promise<AnchorsAtSize>;

  /**
   * Records a verified token. MUST NOT replace an existing granted record
   * (the first token stored in the archive wins); resolves false then.
   * MUST be durable once it resolves.
   */
  putGranted(record: TsaAnchorRecord & { status: 'granted' }): Promise<boolean>;

  /**
   * Replaces a granted record whose token is `staleToken` — one the archive
   * does not back (the anchor job checked) — with `record`, whose token is
   * the one at its archive key. MUST write nothing and resolve false if the
   * stored record is not granted with exactly that token (someone replaced
   * it first). MUST be durable once it resolves true.
   */
  replaceGranted(record: TsaAnchorRecord & { status: 'granted' }, staleToken: Uint8Array): Promise<boolean>;

  /**
   * Records a failed attempt, adding `attempts` to the count. MUST NOT
   * overwrite a granted record (resolves false, writing nothing).
   */
  putFailed(record: TsaAnchorRecord & { status: 'failed' }): Promise<boolean>;

  /** Writes the per-checkpoint summary (last writer wins; it is derived data). */
  putSummary(summary: AnchorSummary): Promise<void>;

  /**
   * Raises the log's "newest anchored size" pointer to `size` (never lowers it).
   * Called after a token for `size` is recorded.
   */
  markAnchored(logId: string, size: number): Promise<void>;

  /** Newest size with at least one granted token, or undefined. */
  newestAnchoredSize(logId: string): Promise<number | undefined>;
}

/** Archive folder of a checkpoint's anchors: `logs/<logId>/anchors/<size>/`. */
export function anchorPrefix(logId: string, size: number): string {
  return `logs/${logId}/anchors/${size}/`;
}
