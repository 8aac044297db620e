/**
 * StreamStore port: where log streams keep their state (docs/streams.md):
 * one cursor per stream, and the dead letters. Implemented by
 * src/adapters/memory/stream-store.ts and src/adapters/aws/dynamo-stream-store.ts;
 * both pass test/contracts/stream-store.contract.ts. Every method MUST reject
 * only with a StreamStoreError for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */

import type { DeliveryFailure } from '../core/deliver/progress.ts';
import { AnchorlogError } from '../core/errors.ts';

/**
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened.
 *  - INTEGRITY: a stored item is malformed. Needs an operator.
 */
export type StreamStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class StreamStoreError extends AnchorlogError<StreamStoreErrorCode> {}

/**
 * A stream's position. Invariant: every record of the log below `nextIndex`
 * was delivered (a 2xx, or filtered out), or skipped by an operator with its
 * dead letter recorded. Records at and above it may have been sent (an attempt
 * whose answer was lost): at least once, never at most once.
 */
export interface StreamCursor {
  readonly v: 1;
  readonly stream: string;
  readonly logId: string;
  /** The next leaf index to deliver. */
  readonly nextIndex: number;
  /** The batch holding `nextIndex` (or the next batch when it is a batch's first record); ≥ 1. */
  readonly seq: number;
  /** Failed attempts of the chunk starting at nextIndex (0 after a delivery). */
  readonly attempts: number;
  /** No attempt before this time (epoch ms): the backoff across runs. */
  readonly nextAttemptAtMs: number;
  readonly lastError?: DeliveryFailure;
  /** The open dead letter the stream is blocked on, if any. */
  readonly blockedBy?: string;
  /** Records delivered so far (filtered-out ones not counted). */
  readonly delivered: number;
  readonly updatedAtMs: number;
}

export interface StoredCursor {
  readonly cursor: StreamCursor;
  /** Compare-and-swap version, ≥ 1. */
  readonly version: number;
}

/**
 * A chunk that failed every attempt. Its id is `<stream>/<fromIndex>`:
 * dead-lettering the same position again overwrites the same record.
 */
export interface StreamDeadLetter {
  readonly v: 1;
  readonly id: string;
  readonly stream: string;
  readonly logId: string;
  readonly fromIndex: number;
  /** Exclusive; the range of the last attempt. */
  readonly toIndex: number;
  readonly attempts: number;
  readonly deadAtMs: number;
  readonly lastError: DeliveryFailure;
  /**
   * open: the stream is blocked on it (and keeps retrying it, at the backoff cap);
   * delivered: a later attempt succeeded; skipped: an operator moved the cursor past it.
   */
  readonly state: 'open' | 'delivered' | 'skipped';
  readonly resolvedAtMs?: number;
}

export function streamDeadLetterId(stream: string, fromIndex: number): string {
  return `${stream}/${fromIndex}`;
}

export interface StreamStore {
  /** Consistent read of a stream's cursor; undefined when it never moved. */
  readCursor(stream: string): Promise<StoredCursor | undefined>;

  /**
   * Writes `cursor` as version expectedVersion + 1 iff the stored version is
   * `expectedVersion` (0: none stored). Resolves false, writing nothing,
   * otherwise: of two runners, only one advances the cursor from a version.
   */
  writeCursor(cursor: StreamCursor, expectedVersion: number): Promise<boolean>;

  /** Stores (or replaces) a dead letter under its id. Idempotent. */
  putDeadLetter(letter: StreamDeadLetter): Promise<void>;

  readDeadLetter(id: string): Promise<StreamDeadLetter | undefined>;

  /** Dead letters of one stream (or all), in id order, optionally only those in `state`; at most 100. */
  listDeadLetters(opts?: { stream?: string; state?: StreamDeadLetter['state'] }): Promise<StreamDeadLetter[]>;
}
