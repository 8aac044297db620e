/**
 * DeliveryStore port: where alert delivery keeps its own state
 * (docs/detection.md "Delivery"): the progress of each outbox entry, a lease
 * per log so two delivery runs never send the same log's alerts at once, and
 * the dead letters. Implemented by src/adapters/memory/delivery-store.ts and
 * src/adapters/aws/dynamo-delivery-store.ts; both pass
 * test/contracts/delivery-store.contract.ts. Every method MUST reject only
 * with a DeliveryStoreError for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import type { DeadLetter, EntryProgress } from '../core/deliver/progress.ts';
import { AnchorlogError } from '../core/errors.ts';

/**
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened.
 *  - INTEGRITY: a stored item is malformed. Needs an operator.
 */
export type DeliveryStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class DeliveryStoreError extends AnchorlogError<DeliveryStoreErrorCode> {}

export interface StoredProgress {
  readonly progress: EntryProgress;
  /** Compare-and-swap version, ≥ 1. */
  readonly version: number;
}

export interface DeadLetterPage {
  readonly items: readonly DeadLetter[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

export const DEAD_LETTER_PAGE_MAX = 100;

export interface DeliveryStore {
  /**
   * Takes the log's delivery lease for `owner` until `untilMs` (epoch ms),
   * iff it is free, expired at `nowMs`, or already `owner`'s. Resolves
   * whether it was taken.
   */
  acquireLease(logId: string, owner: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease back iff `owner` holds it. */
  releaseLease(logId: string, owner: string): Promise<void>;

  /** Consistent read of the progress of these entries; unknown ids are absent from the map. */
  readProgress(logId: string, entryIds: readonly string[]): Promise<Map<string, StoredProgress>>;

  /**
   * Writes `progress` as version expectedVersion + 1 iff the stored version
   * is `expectedVersion` (0: none stored). Resolves false, writing nothing,
   * when it is not. `expiresAtMs` (terminal progress) lets the store delete
   * it after that time; it MUST be kept at least until then, so that an
   * outbox entry brought back after its acknowledgement is recognised as
   * done rather than delivered again.
   */
  writeProgress(
    logId: string,
    progress: EntryProgress,
    expectedVersion: number,
    expiresAtMs?: number,
  ): Promise<boolean>;

  /**
   * Stores a dead letter under its id, unless one with that id is already
   * `redriven` (a late duplicate of a letter already delivered by hand is
   * dropped). Idempotent.
   */
  putDeadLetter(letter: DeadLetter): Promise<void>;

  readDeadLetter(id: string): Promise<DeadLetter | undefined>;

  /** Dead letters in id order after `after`, at most `limit` (default and max DEAD_LETTER_PAGE_MAX), optionally only those in `state`. */
  listDeadLetters(opts?: {
    state?: DeadLetter['state'];
    after?: string;
    limit?: number;
  }): Promise<DeadLetterPage>;

  /** Replaces a dead letter iff its stored `redrives` is `expectedRedrives` (a re-drive's compare-and-swap). */
  updateDeadLetter(letter: DeadLetter, expectedRedrives: number): Promise<boolean>;
}
