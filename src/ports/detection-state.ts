/**
 * DetectionStateStore port: where evaluation of each log stands (the cursor),
 * the rules' state items, and the outbox of alerts (docs/detection.md
 * "State"). Implemented by src/adapters/memory/memory-detection-state.ts; the
 * DynamoDB adapter is a later slice (docs/detection.md "Plan"). Every method
 * MUST reject only with a DetectionStateError (below) for a store failure.
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

export interface DetectionCommit {
  readonly logId: string;
  /** The cursor version the chunk was evaluated from (0: no cursor stored). */
  readonly expectedVersion: number;
  /** The new cursor; its version MUST be expectedVersion + 1. */
  readonly cursor: DetectionCursor;
  /** Items to write, with their complete new values (never increments). */
  readonly puts: ReadonlyMap<string, StateItem>;
  /** Outbox entries; an entry whose id is already in the outbox MUST be kept as it is (ids are deterministic). */
  readonly outbox: readonly OutboxEntry[];
}

export interface DetectionStateStore {
  /** Consistent read of a log's cursor; undefined before the first commit. */
  readCursor(logId: string): Promise<DetectionCursor | undefined>;

  /**
   * Consistent read of state items by key; absent keys are missing from the
   * map. Items whose `expiresAtMs` has passed MAY still be returned (the
   * engine ignores them). Reads MUST reflect every commit that resolved true
   * before them, and MUST NOT reflect part of a commit.
   */
  readItems(logId: string, keys: readonly string[]): Promise<Map<string, StateItem>>;

  /**
   * Writes the puts, adds the outbox entries and replaces the cursor, all or
   * nothing as observed through this port, iff the stored cursor version is
   * `expectedVersion`. Resolves false, writing nothing, when it is not. An
   * implementation that cannot write atomically MUST first write the whole
   * commit as one redo record and complete any pending redo record before it
   * serves a read (every write is an absolute value, so completing one twice
   * is harmless). On a thrown error the commit MAY have happened.
   */
  commit(commit: DetectionCommit): Promise<boolean>;
}
