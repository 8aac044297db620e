/**
 * ProducerStore port: the state of each producer stream of a log
 * (src/core/producer.ts; docs/events.md §Producer streams), one item per
 * (log, stream), written by compare-and-swap on `version`.
 *
 * The state is derived from the log's records, so the store holds a cache
 * that may lag the log (an update lost in a crash) but whose every version
 * was folded from committed records. Ingest writes it once per batch per
 * stream after the commit; a lost swap means another batch of the same stream
 * folded first, and the caller re-reads and folds again.
 *
 * Implemented by src/adapters/aws/dynamo-producer-store.ts and
 * src/adapters/memory/producer-store.ts. Every method MUST reject only with a
 * ProducerStoreError for a store failure; a lost swap resolves false.
 */

import { AnchorlogError } from '../core/errors.ts';
import type { StreamState } from '../core/producer.ts';

export type ProducerStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class ProducerStoreError extends AnchorlogError<ProducerStoreErrorCode> {}

export interface StoredStream {
  readonly state: StreamState;
  /** CAS version: ≥ 1 for a stored state (0 means "absent" to compareAndSwap). */
  readonly version: number;
}

export interface ProducerPage {
  readonly items: readonly StoredStream[];
  readonly cursor?: string;
}

export interface ProducerStore {
  read(logId: string, stream: string): Promise<StoredStream | undefined>;
  /**
   * Stores `state` as version `expectedVersion + 1` if the stored version is
   * `expectedVersion` (0: nothing stored). Resolves false when it is not.
   */
  compareAndSwap(logId: string, state: StreamState, expectedVersion: number): Promise<boolean>;
  /** The log's streams in stream-name order, `limit` (1–100) per page. */
  list(logId: string, opts?: { cursor?: string; limit?: number }): Promise<ProducerPage>;
}
