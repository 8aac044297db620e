/**
 * Storage of detection rules (docs/detection.md "Managing rules"). A rule is
 * a sequence of versions 1, 2, 3, …: every version is kept (the history), and
 * a head says which one is in effect. A change is staged on the head first
 * and committed (promoted) only once its audit record is durable in the
 * `system` log — see src/app/rules.ts for why, and for the crash analysis.
 *
 * The version number is the compare-and-swap token: a change to version N
 * can be staged only while the committed version is N − 1 and nothing else
 * is staged, so of two editors who both read version N − 1, one wins and the
 * other gets CONFLICT, writing nothing.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../core/bytes.ts';
import type { RuleDocument } from '../core/detect/rule.ts';
import { AnchorlogError } from '../core/errors.ts';
import type { AuditPosition } from './principal-store.ts';

/**
 * Errors a rule store raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL).
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 *  - CONFLICT: a stage or promote precondition failed; nothing was written.
 *  - INVALID_CURSOR: `list` or `history` got a cursor this store did not
 *    issue (the caller's input, so the API answers 400).
 */
export type RuleStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY' | 'CONFLICT' | 'INVALID_CURSOR';
export class RuleStoreError extends AnchorlogError<RuleStoreErrorCode> {}

/** Who made a version, how, and where the `system` log records it. */
export interface RuleChange {
  /** `rule.create`, `rule.update`, `rule.enable` or `rule.disable`. */
  readonly action: string;
  /** The acting principal's id. */
  readonly by: string;
  /** When the change was made (the audit event's occurredAt). */
  readonly at: string;
  /** The audit event's id (`rule/<id>/v<version>`). */
  readonly eventId: string;
  /** Where the `system` log holds that event. */
  readonly recorded: AuditPosition;
}

/** One committed version of a rule. Immutable once written. */
export interface RuleVersion {
  /** A document parseRuleDocument accepted; `document.version` is the version number. */
  readonly document: RuleDocument;
  readonly change: RuleChange;
}

/** A change waiting for its audit record (src/app/rules.ts: stage → record → promote). */
export interface PendingRuleChange {
  /** The next version: its `version` is the committed version + 1. */
  readonly document: RuleDocument;
  /** The admin audit event (an Event v1 object) to record before promotion. */
  readonly audit: Record<string, unknown>;
}

export interface RuleHead {
  readonly ruleId: string;
  /** The version in effect; absent while the rule's creation is staged. */
  readonly current?: RuleVersion;
  readonly pending?: PendingRuleChange;
}

export interface RulePage {
  /** In ascending rule id order. */
  readonly heads: RuleHead[];
  /** Opaque; present when more heads may follow. */
  readonly cursor?: string;
}

export interface RuleHistoryPage {
  /** Committed versions, newest first. */
  readonly versions: RuleVersion[];
  readonly cursor?: string;
}

export interface RuleStore {
  /**
   * The head of a rule, undefined if the rule was never staged. MUST be
   * strongly consistent: a stage or promote that resolved is visible.
   */
  get(ruleId: string): Promise<RuleHead | undefined>;

  /**
   * Stages `change` on the head of `change.document.id`, if and only if its
   * version is the committed version + 1 (1 for a rule that does not exist)
   * and no other change is staged. MUST reject with RuleStoreError('CONFLICT')
   * otherwise, writing nothing. MUST be durable once it resolves.
   */
  stage(change: PendingRuleChange): Promise<void>;

  /**
   * Commits the staged change: stores `version` (which MUST be the staged
   * document with its recorded change) as an immutable version item and makes
   * it the head's current version, clearing `pending` — if and only if that
   * version is the one staged. MUST reject with CONFLICT otherwise (someone
   * else promoted it first, or nothing is staged), changing nothing on the
   * head. Writing a version item that already exists is not an error: a
   * promotion that crashed after writing it is completed by the next one.
   */
  promote(version: RuleVersion): Promise<void>;

  /**
   * One stored version, or undefined. A version above the head's current one
   * MAY be returned (a promotion between its two writes); callers that show
   * history compare with the head.
   */
  getVersion(ruleId: string, version: number): Promise<RuleVersion | undefined>;

  /**
   * Stored versions of one rule, newest first, `limit` (1–100) at most per
   * page; a page MAY hold fewer even when a cursor is returned. The same
   * caveat as getVersion applies to the newest. INVALID_CURSOR for a cursor
   * it did not issue.
   */
  history(ruleId: string, opts: { cursor?: string; limit: number }): Promise<RuleHistoryPage>;

  /**
   * Every head (staged creations included) in ascending id order, `limit`
   * (1–100) at most per page, each read strongly consistently.
   * INVALID_CURSOR for a cursor it did not issue.
   */
  list(opts: { cursor?: string; limit: number }): Promise<RulePage>;
}

/** Rule ids (docs/detection.md): what a cursor may name, and what a store key may hold. */
export const RULE_ID_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** The largest version number a rule document may carry. */
export const MAX_RULE_VERSION = 2 ** 31 - 1;

/** `list`'s cursor: the last rule id of the page. Shared by the adapters so cursors are one format. */
export function encodeRuleCursor(lastId: string): string {
  return toBase64Url(utf8(lastId));
}

/** The id an encodeRuleCursor cursor names; INVALID_CURSOR for anything else. */
export function decodeRuleCursor(cursor: string): string {
  try {
    const id = fromUtf8(fromBase64Url(cursor));
    if (RULE_ID_RE.test(id)) return id;
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new RuleStoreError('INVALID_CURSOR', 'invalid cursor');
}

/** `history`'s cursor: the last version of the page. */
export function encodeHistoryCursor(lastVersion: number): string {
  return toBase64Url(utf8(`v${lastVersion}`));
}

/** The version an encodeHistoryCursor cursor names; INVALID_CURSOR for anything else. */
export function decodeHistoryCursor(cursor: string): number {
  try {
    const m = /^v([1-9][0-9]{0,9})$/.exec(fromUtf8(fromBase64Url(cursor)));
    const n = m ? Number(m[1]) : Number.NaN;
    if (Number.isSafeInteger(n) && n <= MAX_RULE_VERSION) return n;
  } catch {
    // fall through
  }
  throw new RuleStoreError('INVALID_CURSOR', 'invalid cursor');
}

/** The store's argument contract for a page size (callers validate the client's value first). */
export function checkPageLimit(limit: number, what: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100)
    throw new RangeError(`${what}: limit must be an integer from 1 to 100`);
}
