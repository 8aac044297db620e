/**
 * Storage of roles (docs/access.md "Roles"). A role is a sequence of
 * versions 1, 2, 3, …: every version is kept (the history an auditor reads),
 * and a head says which one is in effect. A change is staged on the head
 * first and committed (promoted) only once its audit record is durable in
 * the `system` log — see src/app/roles.ts for why, and for the crash
 * analysis. The same protocol, and the same store semantics, as detection
 * rules (src/ports/rule-store.ts).
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
import { AnchorlogError } from '../core/errors.ts';
import { isRoleId, type Role } from '../core/role.ts';
import type { AuditPosition } from './principal-store.ts';

/**
 * Errors a role store raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL).
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 *  - CONFLICT: a stage or promote precondition failed; nothing was written.
 *  - INVALID_CURSOR: `list` or `history` got a cursor this store did not
 *    issue (the caller's input, so the API answers 400).
 */
export type RoleStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY' | 'CONFLICT' | 'INVALID_CURSOR';
export class RoleStoreError extends AnchorlogError<RoleStoreErrorCode> {}

/** Who made a version, how, and where the `system` log records it. */
export interface RoleChange {
  /** `role.create` or `role.update`. */
  readonly action: string;
  /** The acting principal's id. */
  readonly by: string;
  /** When the change was made (the audit event's occurredAt). */
  readonly at: string;
  /** The audit event's id (`role/<id>/v<version>`). */
  readonly eventId: string;
  /** Where the `system` log holds that event. */
  readonly recorded: AuditPosition;
}

/** One committed version of a role. Immutable once written. */
export interface RoleVersion {
  /** `role.version` is the version number. */
  readonly role: Role;
  readonly change: RoleChange;
}

/** A change waiting for its audit record (src/app/roles.ts: stage → record → promote). */
export interface PendingRoleChange {
  /** The next version: its `version` is the committed version + 1. */
  readonly role: Role;
  /** The admin audit event (an Event v1 object) to record before promotion. */
  readonly audit: Record<string, unknown>;
}

export interface RoleHead {
  readonly roleId: string;
  /** The version in effect; absent while the role's creation is staged. */
  readonly current?: RoleVersion;
  readonly pending?: PendingRoleChange;
}

export interface RolePage {
  /** In ascending role id order. */
  readonly heads: RoleHead[];
  /** Opaque; present when more heads may follow. */
  readonly cursor?: string;
}

export interface RoleHistoryPage {
  /** Committed versions, newest first. */
  readonly versions: RoleVersion[];
  readonly cursor?: string;
}

export interface RoleStore {
  /**
   * The head of a role, undefined if the role was never staged. MUST be
   * strongly consistent: a stage or promote that resolved is visible (a role
   * change takes effect on its holders' next request).
   */
  get(roleId: string): Promise<RoleHead | undefined>;

  /**
   * Stages `change` on the head of `change.role.id`, if and only if its
   * version is the committed version + 1 (1 for a role that does not exist)
   * and no other change is staged. MUST reject with RoleStoreError('CONFLICT')
   * otherwise, writing nothing. MUST be durable once it resolves.
   */
  stage(change: PendingRoleChange): Promise<void>;

  /**
   * Commits the staged change: stores `version` (the staged role with its
   * recorded change) as an immutable version item and makes it the head's
   * current version, clearing `pending` — if and only if that version is the
   * one staged. MUST reject with CONFLICT otherwise, changing nothing on the
   * head. Writing a version item that already exists is not an error.
   */
  promote(version: RoleVersion): Promise<void>;

  /** One stored version, or undefined (one above the head's MAY be returned mid-promotion). */
  getVersion(roleId: string, version: number): Promise<RoleVersion | undefined>;

  /**
   * Stored versions of one role, newest first, `limit` (1–100) at most per
   * page; a page MAY hold fewer even when a cursor is returned.
   * INVALID_CURSOR for a cursor it did not issue.
   */
  history(roleId: string, opts: { cursor?: string; limit: number }): Promise<RoleHistoryPage>;

  /**
   * Every head (staged creations included) in ascending id order, `limit`
   * (1–100) at most per page, each read strongly consistently.
   * INVALID_CURSOR for a cursor it did not issue.
   */
  list(opts: { cursor?: string; limit: number }): Promise<RolePage>;
}

/** `list`'s cursor: the last role id of the page. Shared by the adapters so cursors are one format. */
export function encodeRoleCursor(lastId: string): string {
  return toBase64Url(utf8(`r:${lastId}`));
}

/** The id an encodeRoleCursor cursor names; INVALID_CURSOR for anything else. */
export function decodeRoleCursor(cursor: string): string {
  try {
    const s = fromUtf8(fromBase64Url(cursor));
    const id = s.slice(2);
    if (s.startsWith('r:') && isRoleId(id)) return id;
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new RoleStoreError('INVALID_CURSOR', 'invalid cursor');
}

/** The largest version number a role may reach. */
export const MAX_ROLE_VERSION = 2 ** 31 - 1;

/** `history`'s cursor: the last version of the page. */
export function encodeRoleHistoryCursor(lastVersion: number): string {
  return toBase64Url(utf8(`rv${lastVersion}`));
}

/** The version an encodeRoleHistoryCursor cursor names; INVALID_CURSOR for anything else. */
export function decodeRoleHistoryCursor(cursor: string): number {
  try {
    const m = /^rv([1-9][0-9]{0,9})$/.exec(fromUtf8(fromBase64Url(cursor)));
    const n = m ? Number(m[1]) : Number.NaN;
    if (Number.isSafeInteger(n) && n <= MAX_ROLE_VERSION) return n;
  } catch {
    // fall through
  }
  throw new RoleStoreError('INVALID_CURSOR', 'invalid cursor');
}

/** The store's argument contract for a page size (callers validate the client's value first). */
export function checkRolePageLimit(limit: number, what: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100)
    throw new RangeError(`${what}: limit must be an integer from 1 to 100`);
}
