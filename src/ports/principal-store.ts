/**
 * Storage of principals. One entry per principal id, replaced whole under
 * compare-and-swap on a revision number, so concurrent admin edits can never
 * silently overwrite each other.
 *
 * An entry holds the committed state (`current`, what authentication uses)
 * and at most one staged change (`pending`) waiting for its audit record —
 * see src/app/principals.ts for why changes are staged.
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../core/bytes.ts';
import { AnchorlogError } from '../core/errors.ts';
import { isPrincipalId, type Principal } from '../core/principal.ts';

/**
 * Errors a principal store raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL).
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored entry is malformed. Not retryable; needs an operator.
 *  - CONFLICT: `put`'s revision precondition failed; nothing was written.
 *  - INVALID_CURSOR: `list` got a cursor this store did not issue (the
 *    caller's input, so the API answers 400).
 */
export type PrincipalStoreErrorCode =
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'INTEGRITY'
  | 'CONFLICT'
  | 'INVALID_CURSOR';
export class PrincipalStoreError extends AnchorlogError<PrincipalStoreErrorCode> {}

/** Where one record sits in the `system` log: batch `seq`, leaf `index`. */
export interface AuditPosition {
  seq: number;
  index: number;
}

/** A principal plus the hash of its current secret. */
export interface PrincipalState {
  principal: Principal;
  /** SHA-256 of the API key secret (32 bytes). Never leaves the app layer. */
  secretHash: Uint8Array;
  /**
   * Where the `system` log records the change that produced this version
   * (event `principal/<id>/v<version>`). Set on PROMOTE, from the position the
   * audit sink returned; authentication refuses a committed state without it
   * or whose record disagrees (src/app/principals.ts, "Binding"). Absent on a
   * staged state (not recorded yet) and on states written before bindings
   * existed (see PrincipalService.bindLegacy).
   */
  recorded?: AuditPosition;
}

export interface PendingChange {
  /** The full state that becomes `current` once the audit record is durable. */
  state: PrincipalState;
  /** The admin audit event (an Event v1 object) to record before promotion. */
  audit: Record<string, unknown>;
}

export interface PrincipalEntry {
  id: string;
  /** Absent while the principal's creation is still staged. */
  current?: PrincipalState;
  pending?: PendingChange;
  /** Compare-and-swap token; the store sets it, starting at 1, +1 per successful put. */
  rev: number;
}

export interface PrincipalPage {
  entries: PrincipalEntry[];
  /** Opaque; present when more entries may follow. */
  cursor?: string;
}

export interface PrincipalStore {
  /**
   * Reads an entry. MUST be strongly consistent (read-after-write across all
   * callers): a revocation or rotation that `put` has acknowledged MUST be
   * visible to the very next `get`, so it takes effect on the next request.
   * Resolves `undefined` when no entry exists.
   */
  get(id: string): Promise<PrincipalEntry | undefined>;

  /**
   * Writes `entry` (everything but `rev`) if and only if the stored revision
   * equals `expectedRev`; `expectedRev = 0` means "only if no entry exists".
   * On success the stored revision becomes `expectedRev + 1`, which is
   * returned. MUST reject with PrincipalStoreError('CONFLICT') when the
   * precondition fails, and MUST NOT write anything in that case. MUST be durable once it resolves.
   */
  put(entry: Omit<PrincipalEntry, 'rev'>, expectedRev: number): Promise<number>;

  /**
   * Lists entries in ascending id order. Each returned entry MUST be read
   * strongly consistently. `limit` (1–100) bounds the entries per page; a page
   * MAY hold fewer entries even when a cursor is returned. MUST reject with
   * PrincipalStoreError('INVALID_CURSOR') for a cursor it did not issue.
   */
  list(opts: { cursor?: string; limit: number }): Promise<PrincipalPage>;

  /**
   * Records that principal `id` authenticated at `at` (an ISO 8601 UTC
   * timestamp from `Date.toISOString`, so text order is time order) — if and
   * only if no use is recorded yet or the recorded one is earlier than
   * `ifLastBefore`. MUST be a single conditional write: of any number of
   * concurrent callers with the same `ifLastBefore`, at most one writes.
   * Resolves true when it wrote, false when the condition did not hold.
   * Last use lives beside the entry, never in it: it is not an admin change
   * (no audit record, no `rev` bump, no binding), and whoever records it —
   * the authorizer — MUST NOT be able to change the entry itself.
   */
  recordUse(id: string, at: string, ifLastBefore: string): Promise<boolean>;

  /** The last recorded use of each id that has one (ids without one are absent). At most 100 ids. */
  lastUsed(ids: readonly string[]): Promise<Map<string, string>>;
}

/**
 * The `list` cursor every store issues: the last id of the page, base64url.
 * Opaque to callers; a store reads back only a cursor that decodes to a
 * principal id (anything else is INVALID_CURSOR: the client's input).
 */
export function encodePrincipalCursor(lastId: string): string {
  return toBase64Url(utf8(lastId));
}

/** The id a cursor from encodePrincipalCursor names; INVALID_CURSOR for anything else. */
export function decodePrincipalCursor(cursor: string): string {
  try {
    const id = fromUtf8(fromBase64Url(cursor));
    if (isPrincipalId(id)) return id;
  } catch {
    // fall through: any decoding failure is the same bad cursor
  }
  throw new PrincipalStoreError('INVALID_CURSOR', 'invalid cursor');
}
