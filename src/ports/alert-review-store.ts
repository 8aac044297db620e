/**
 * Storage of alert review state (docs/detection.md "Reviewing alerts"): one
 * item per alert that fired, with its lifecycle state (src/core/detect/review.ts)
 * and at most one staged transition. A transition is staged first and promoted
 * only once its audit record is durable in the `system` log — see
 * src/app/alerts.ts for why, and for the crash analysis.
 *
 * The store is the reviewers' working set, not the evidence: the report an
 * auditor relies on is rebuilt from the `system` log (src/core/detect/report.ts).
 *
 * `rev` (the number of committed transitions) is the compare-and-swap token:
 * transition n can be staged only while the committed rev is n − 1 and
 * nothing else is staged, so of two reviewers acting on the same alert one
 * wins and the other gets CONFLICT, writing nothing.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../core/bytes.ts';
import { ALERT_ID_RE, type AlertRef, type ReviewState } from '../core/detect/review.ts';
import { AnchorlogError } from '../core/errors.ts';
import type { AuditPosition } from './principal-store.ts';

/**
 * Errors an alert review store raises (anything else is a bug or a misconfiguration):
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 *  - CONFLICT: a stage or promote precondition failed; nothing was written.
 *  - INVALID_CURSOR: `list` got a cursor this store did not issue.
 */
export type AlertReviewStoreErrorCode =
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'INTEGRITY'
  | 'CONFLICT'
  | 'INVALID_CURSOR';
export class AlertReviewStoreError extends AnchorlogError<AlertReviewStoreErrorCode> {}

/** A transition waiting for its audit record. */
export interface PendingReview {
  /** The state after the transition: `state.rev` is the committed rev + 1. */
  readonly state: ReviewState;
  /** The audit event (an Event v1 object) to record before promotion. */
  readonly audit: Record<string, unknown>;
}

export interface AlertReviewItem {
  readonly alert: AlertRef;
  /** The committed state (FIRED_STATE until the first transition). */
  readonly state: ReviewState;
  /** Where the `system` log holds the event of the committed transition (absent at rev 0). */
  readonly recorded?: AuditPosition;
  readonly pending?: PendingReview;
}

export interface AlertReviewPage {
  /** In ascending alert id order. */
  readonly items: AlertReviewItem[];
  /** Opaque; present when more items may follow. */
  readonly cursor?: string;
}

export interface AlertReviewStore {
  /**
   * Creates the item of a fired alert (state FIRED_STATE) unless one exists.
   * Resolves true when this call created it. MUST NOT change an existing
   * item (opening again after a crash or a redo is harmless).
   */
  open(alert: AlertRef): Promise<boolean>;

  /** The item, or undefined. MUST be strongly consistent. */
  get(alertId: string): Promise<AlertReviewItem | undefined>;

  /**
   * Stages `pending` on the item if and only if it exists, its committed rev
   * is `pending.state.rev − 1` and nothing is staged; CONFLICT otherwise,
   * writing nothing. MUST be durable once it resolves.
   */
  stage(alertId: string, pending: PendingReview): Promise<void>;

  /**
   * Commits the staged transition: the committed state becomes `state`
   * (which MUST be the staged one) with `recorded`, and `pending` is cleared —
   * if and only if the staged transition is of rev `state.rev`. CONFLICT
   * otherwise (someone else promoted it, or nothing is staged), changing nothing.
   */
  promote(alertId: string, state: ReviewState, recorded: AuditPosition): Promise<void>;

  /**
   * Every item in ascending alert id order, `limit` (1–100) at most per page,
   * read strongly consistently; a page MAY hold fewer even when a cursor is
   * returned. INVALID_CURSOR for a cursor it did not issue.
   */
  list(opts: { cursor?: string; limit: number }): Promise<AlertReviewPage>;
}

/** `list`'s cursor: the last alert id of the page. Shared by the adapters so cursors are one format. */
export function encodeAlertCursor(lastId: string): string {
  return toBase64Url(utf8(lastId));
}

export function decodeAlertCursor(cursor: string): string {
  try {
    const id = fromUtf8(fromBase64Url(cursor));
    if (ALERT_ID_RE.test(id)) return id;
  } catch {
    // any decoding failure is the same bad cursor
  }
  throw new AlertReviewStoreError('INVALID_CURSOR', 'invalid cursor');
}
