/**
 * RETIRED (issue #17, docs/query.md §2): mounted by no function and not by the
 * local stack; kept only until it is deleted together with its tests.
 *
 * QueryIndexStore port: the hot, queryable projection of a log's records
 * (docs/query.md). The projector (src/app/query-projector.ts) writes one
 * item per record and moves a per-log cursor; the query service
 * (src/app/query.ts) reads pages of items through one of a few indexes.
 *
 * Implemented by src/adapters/aws/dynamo-query-index.ts. Every method MUST
 * reject only with a QueryIndexError (below) for a store failure.
 *
 * The key words MUST, MUST NOT, SHOULD and MAY are to be interpreted as in
 * RFC 2119.
 */
import { AnchorlogError } from '../core/errors.ts';

/**
 * Errors a query index raises. Anything else it throws is a bug or a
 * misconfiguration (INTERNAL). A lost cursor race is not an error:
 * advanceCursor resolves false.
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; a write MAY have happened (timeouts).
 *  - INTEGRITY: a stored item is malformed. Not retryable; needs an operator.
 */
export type QueryIndexErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class QueryIndexError extends AnchorlogError<QueryIndexErrorCode> {}

/** One record as projected for queries. */
export interface QueryItem {
  index: number;
  /** RFC 3339 with milliseconds, as in the record. */
  receivedAt: string;
  submitter: string;
  actorId: string;
  action: string;
  /** The record's canonical bytes (what the query returns, hashed for leafHash). */
  bytes: Uint8Array;
  /** Epoch seconds after which the store MAY delete the item (DynamoDB TTL). */
  expiresAtSec: number;
}

/** Where the projector stands in one log. */
export interface ProjectorCursor {
  logId: string;
  /** Last batch whose records all have items; 0 = none. */
  seq: number;
  /** Records [0, nextIndex) are projected (or were skipped as already expired). */
  nextIndex: number;
  /** receivedAt of record nextIndex-1; undefined when nextIndex = 0. */
  lastReceivedAt: string | undefined;
  /** Epoch ms of the write of this cursor (projector clock). */
  updatedAt: number;
  /**
   * A position at least `settleMs` old when this cursor was written: global
   * secondary indexes are eventually consistent, so GSI readers only trust
   * records below it (the retired DynamoDB index, docs/query.md §2).
   */
  settled: { seq: number; nextIndex: number; lastReceivedAt: string | undefined };
  /** Hot window (ms) the projector used for expiresAtSec. */
  hotWindowMs: number;
}

/** The index a page is read from. All are ordered by (receivedAt, index). */
export type IndexKey =
  | { kind: 'time'; day: string }
  | { kind: 'actor'; actorId: string }
  | { kind: 'submitter'; submitter: string }
  | { kind: 'action'; depth: 1 | 2; prefix: string };

/** Predicates the store applies to items after reading them by key. */
export interface ItemFilter {
  actorId?: string;
  submitter?: string;
  /** Matches `action === prefix` or `action` starting with `prefix + '.'`. */
  actionPrefix?: string;
}

export interface IndexQuery {
  logId: string;
  key: IndexKey;
  /**
   * Inclusive bounds on the sort key `<receivedAt>#<index, 16 digits>`; `hi`
   * may be a bare timestamp (every key of that instant sorts after it).
   */
  lo: string;
  hi: string;
  /** Items to *evaluate* (read) at most; fewer may match. */
  limit: number;
  filter: ItemFilter;
}

export interface IndexPage {
  /** Matching items in sort-key order. */
  items: QueryItem[];
  /** Sort key of the last item evaluated when more may follow; undefined when the range is exhausted. */
  lastKey: string | undefined;
}

export interface QueryIndexStore {
  /** Consistent read of the projector's cursor; undefined before the first run. */
  readCursor(logId: string): Promise<ProjectorCursor | undefined>;

  /**
   * Writes items for records of `logId`. MUST be idempotent (the same record
   * always gives the same item) and durable when it resolves.
   */
  putItems(logId: string, items: readonly QueryItem[]): Promise<void>;

  /**
   * Replaces the cursor iff the stored one has seq `expectedSeq` (no cursor
   * for 0). Resolves false, writing nothing, otherwise.
   */
  advanceCursor(next: ProjectorCursor, expectedSeq: number): Promise<boolean>;

  /**
   * One page of an index, in sort-key order. `time` pages MUST be read
   * consistently; GSI pages MAY lag recent writes (see ProjectorCursor.settled).
   */
  query(q: IndexQuery): Promise<IndexPage>;
}

export const SORT_INDEX_DIGITS = 16;

/** Sort key of a record: time order, then index (fixed width, so string order is log order). */
export function sortKey(receivedAt: string, index: number): string {
  return `${receivedAt}#${String(index).padStart(SORT_INDEX_DIGITS, '0')}`;
}

/**
 * `a.b.c` → ['a', 'a.b', 'a.b.c']: the action prefixes a record is indexed
 * under (the `action` index has depth 1 and 2; filters match any depth).
 */
export function actionPrefixes(action: string): string[] {
  const parts = action.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}
