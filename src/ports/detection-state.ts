/**
 * DetectionStateStore port: where evaluation of each log stands (the cursor),
 * the rules' state items, and the outbox of alerts waiting for delivery
 * (docs/detection.md "State"). Implemented by
 * src/adapters/memory/detection-state.ts and
 * src/adapters/aws/dynamo-detection-state.ts; both pass
 * test/contracts/detection-state.contract.ts. Every method MUST reject only
 * with a DetectionStateError (below) for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import type { OutboxEntry } from '../core/detect/alert.ts';
import type { DetectionCursor, StateItem } from '../core/detect/state.ts';
import { AnchorlogError } from '../core/errors.ts';

/**
 * Errors a detection state store raises. A lost compare-and-swap is not an
 * error: commit resolves false.
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a commit MAY have happened (timeouts):
 *    the caller re-reads the cursor.
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 */
export type DetectionStateErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class DetectionStateError extends AnchorlogError<DetectionStateErrorCode> {}

/**
 * The signed checkpoint a commit's records were evaluated under: every record
 * the commit evaluated has an index below `size`, so each alert's trigger has
 * an inclusion proof in this tree (docs/detection.md "Alerts").
 */
export interface CheckpointRef {
  readonly size: number;
  /** The signed checkpoint note, as the seal state holds it. */
  readonly checkpoint: string;
}

/**
 * Where the log store batch holding record `nextIndex` begins (or the batch
 * starting at it). A hint for the next run, which checks it against what it
 * reads and searches when it is wrong: it saves reads, never decides.
 */
export interface LogPosition {
  readonly seq: number;
  readonly firstIndex: number;
}

/** A stored cursor, with the log position the commit that wrote it left. */
export interface StoredCursor extends DetectionCursor {
  readonly resume?: LogPosition;
}

export interface DetectionCommit {
  readonly logId: string;
  /** The cursor version the chunk was evaluated from (0: no cursor stored). */
  readonly expectedVersion: number;
  /** The new cursor; its version MUST be expectedVersion + 1. */
  readonly cursor: DetectionCursor;
  /** Items to write, with their complete new values (never increments). */
  readonly puts: ReadonlyMap<string, StateItem>;
  /** Outbox entries, in the order the engine emitted them; ids are unique within a commit. */
  readonly outbox: readonly OutboxEntry[];
  /** The checkpoint the chunk's records are under; stored with each of its outbox entries. */
  readonly checkpoint?: CheckpointRef;
  /** Where reading resumes (stored with the cursor, returned by readCursor). */
  readonly resume?: LogPosition;
}

/** One outbox entry as delivery sees it. */
export interface OutboxRecord {
  readonly logId: string;
  /**
   * Orders a log's outbox: commit order, then emission order within a commit.
   * Opaque; positions of one log compare as strings in that order.
   */
  readonly position: string;
  readonly entry: OutboxEntry;
  /** The checkpoint the entry's trigger record is under; null for a commit made without one. */
  readonly checkpoint: CheckpointRef | null;
}

export interface OutboxPage {
  readonly records: readonly OutboxRecord[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/** Entries a readOutbox page holds at most. */
export const OUTBOX_PAGE_MAX = 1000;

export interface DetectionStateStore {
  /** Consistent read of a log's cursor; undefined before the first commit. */
  readCursor(logId: string): Promise<StoredCursor | undefined>;

  /**
   * Consistent read of state items by key; absent keys are missing from the
   * map. Items whose `expiresAtMs` has passed MAY still be returned (the
   * engine ignores them). Reads MUST reflect every commit that resolved true
   * before them, and a pending redo record is completed before anything is
   * read. A read is not a snapshot: one that races another evaluator's commit
   * MAY see part of it, but that commit has then moved the cursor version,
   * so a commit built on the read fails its compare-and-swap.
   */
  readItems(logId: string, keys: readonly string[]): Promise<Map<string, StateItem>>;

  /**
   * Writes the puts, adds the outbox entries and replaces the cursor, all or
   * nothing as observed through this port, iff the stored cursor version is
   * `expectedVersion`. Resolves false, writing nothing, when it is not. An
   * implementation that cannot write atomically MUST first write the whole
   * commit as one redo record and complete any pending redo record before it
   * serves a read (every write is an absolute value, so completing one twice
   * is harmless). On a thrown error the commit MAY have happened; a commit
   * whose write landed but whose answer was lost SHOULD resolve true when
   * retried or recognised (it is this very commit), and MAY resolve false.
   */
  commit(commit: DetectionCommit): Promise<boolean>;

  /**
   * The log's outbox entries not yet acknowledged, in position order, after
   * `after` (a position or a page's `next`), at most `limit` (default 100,
   * at most OUTBOX_PAGE_MAX). Reflects every commit that resolved true before
   * the call.
   */
  readOutbox(logId: string, opts?: { after?: string; limit?: number }): Promise<OutboxPage>;

  /**
   * Removes delivered entries from the outbox. Idempotent; unknown positions
   * are ignored. Delivery is at least once: a redo completed late by a slow
   * evaluator MAY bring back an entry acknowledged meanwhile, so consumers
   * are idempotent on the entry id (alert ids are deterministic).
   */
  ackOutbox(logId: string, positions: readonly string[]): Promise<void>;
}

/** `<commit version, 16 digits>.<emission order, 6 digits>`: sorts as commit order, then emission order. */
export function outboxPosition(version: number, i: number): string {
  return `${String(version).padStart(16, '0')}.${String(i).padStart(6, '0')}`;
}
