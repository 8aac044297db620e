/**
 * Storage of access reviews (docs/access.md "Access reviews"): one head per
 * review (name, open/closed, at most one staged transition) and one item per
 * decision. As for alert review (src/ports/alert-review-store.ts), a change
 * is staged first and promoted only once its audit record is durable in the
 * `system` log — see src/app/access-reviews.ts for the crash analysis.
 *
 * The store is the reviewers' working set, not the evidence: the report is
 * rebuilt from the `system` log (src/core/access-review.ts), and the
 * snapshot itself lives only there once the start is recorded.
 *
 * Compare-and-swap: a head transition n is staged only while the committed
 * rev is n − 1 and nothing is staged; a decision is staged only if none
 * exists for that principal in that review and the review is open with
 * nothing staged on its head — one condition over both items, so a decision
 * can never be staged once a close is. Of two deciders one wins; the other
 * gets CONFLICT, writing nothing.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../core/bytes.ts';
import { AnchorlogError } from '../core/errors.ts';
import type { AuditPosition } from './principal-store.ts';

/**
 * Errors an access review store raises (anything else is a bug or a misconfiguration):
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 *  - CONFLICT: a create, stage or promote precondition failed; nothing was written.
 *  - INVALID_CURSOR: a listing got a cursor this store did not issue.
 */
export type AccessReviewStoreErrorCode =
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'INTEGRITY'
  | 'CONFLICT'
  | 'INVALID_CURSOR';
export class AccessReviewStoreError extends AnchorlogError<AccessReviewStoreErrorCode> {}

/** `arv_` and 24 lowercase hex digits. */
export const ACCESS_REVIEW_ID_RE = /^arv_[0-9a-f]{24}$/;

/** A review's committed state: rev 1 open (started), rev 2 closed. */
export interface AccessReviewState {
  readonly rev: number;
  readonly status: 'open' | 'closed';
  readonly name: string;
  readonly startedAt: string;
  readonly startedBy: string;
  /** Principals in the snapshot. */
  readonly items: number;
  readonly closedAt?: string;
  readonly closedBy?: string;
}

/** A head transition waiting for its audit records (recorded in order). */
export interface PendingReviewChange {
  readonly state: AccessReviewState;
  /** Event v1 objects: the snapshot parts and the start, or the close. */
  readonly audits: readonly Record<string, unknown>[];
}

export interface AccessReviewHead {
  readonly id: string;
  /** Absent until the start is promoted. */
  readonly state?: AccessReviewState;
  /** Where the `system` log holds the last record of the committed transition. */
  readonly recorded?: AuditPosition;
  readonly pending?: PendingReviewChange;
}

export interface AccessDecisionItem {
  readonly reviewId: string;
  readonly principalId: string;
  readonly decision: string;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
  /** Where the `system` log holds the decision: absent while it is staged. */
  readonly recorded?: AuditPosition;
  /** The audit event (Event v1 object), kept while staged so anyone can complete it. */
  readonly pending?: { readonly audit: Record<string, unknown> };
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque; present when more items may follow. */
  readonly cursor?: string;
}

export interface AccessReviewStore {
  /**
   * Creates review `id` with its start staged (`pending.state.rev` = 1) if
   * and only if no review `id` exists; CONFLICT otherwise, writing nothing.
   */
  create(id: string, pending: PendingReviewChange): Promise<void>;

  /** The head, or undefined. MUST be strongly consistent. */
  get(id: string): Promise<AccessReviewHead | undefined>;

  /**
   * Stages a head transition if and only if the committed rev is
   * `pending.state.rev − 1` and nothing is staged; CONFLICT otherwise.
   */
  stage(id: string, pending: PendingReviewChange): Promise<void>;

  /**
   * Commits the staged head transition of rev `state.rev` with `recorded`,
   * clearing it; CONFLICT if that is not the staged rev, changing nothing.
   */
  promote(id: string, state: AccessReviewState, recorded: AuditPosition): Promise<void>;

  /** Heads in ascending id order, `limit` (1–100) at most per page, strongly consistent. */
  list(opts: { cursor?: string; limit: number }): Promise<Page<AccessReviewHead>>;

  /**
   * Stages a decision (`recorded` absent, `pending` present) if and only if
   * no decision on that principal exists in the review AND the review's
   * committed state is open with nothing staged on the head; CONFLICT
   * otherwise, writing nothing. One atomic condition: MUST NOT succeed
   * after a close is staged.
   */
  stageDecision(item: AccessDecisionItem): Promise<void>;

  /** Marks the staged decision recorded (clearing `pending`); CONFLICT if it is not staged. */
  promoteDecision(reviewId: string, principalId: string, recorded: AuditPosition): Promise<void>;

  /** The decision, or undefined. MUST be strongly consistent. */
  getDecision(reviewId: string, principalId: string): Promise<AccessDecisionItem | undefined>;

  /** A review's decisions in ascending principal id order, `limit` (1–100) at most per page. */
  listDecisions(
    reviewId: string,
    opts: { cursor?: string; limit: number },
  ): Promise<Page<AccessDecisionItem>>;
}

/** Listing cursors: the last key of the page. Shared by the adapters so cursors are one format. */
export function encodeReviewCursor(lastKey: string): string {
  return toBase64Url(utf8(lastKey));
}

export function decodeReviewCursor(cursor: string, valid: (key: string) => boolean): string {
  try {
    const key = fromUtf8(fromBase64Url(cursor));
    if (valid(key)) return key;
  } catch {
    // any decoding failure is the same bad cursor
  }
  throw new AccessReviewStoreError('INVALID_CURSOR', 'invalid cursor');
}

export function checkListLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100)
    throw new RangeError('list: limit must be an integer from 1 to 100');
}
