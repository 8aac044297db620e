/**
 * The LogStore port: what the ingest use case (and later the sealer) needs
 * from the database holding a log's batches. The sequencing *algorithm* (find
 * the tip, build records, commit at tip+1, retry, idempotency) lives in
 * src/app/ingest.ts; a store only offers the primitives below, each with a
 * contract in RFC 2119 words. Any implementation that keeps these contracts
 * gives a gap-free, fork-free, hash-chained log (see docs/ingest.md §2).
 *
 * Vocabulary:
 *  - a *batch* is the unit of commit: `count` consecutive records starting at
 *    `firstIndex`, numbered by `seq` = 1, 2, 3, … with no gaps;
 *  - the *tip* is the last committed batch (seq 0 = empty log);
 *  - an *attempt* is one append request's effort to commit, named by a random
 *    `attemptId` stored in the batch so a retry can recognise its own write
 *    after an ambiguous failure (a timeout after the write succeeded).
 */
import { bytesEqual } from '../core/bytes.ts';
import { AnchorlogError } from '../core/errors.ts';

/** What a commit at `seq + 1` must continue from. */
export interface LogTip {
  logId: string;
  /** Last committed batch; 0 when the log is empty. */
  seq: number;
  /** Index the next record gets (= number of records in the log). */
  nextIndex: number;
  /** Leaf hash of record nextIndex-1; 32 zero bytes when empty. */
  lastLeafHash: Uint8Array;
  /** receivedAt of the last record (RFC 3339, ms), undefined when empty. */
  lastReceivedAt: string | undefined;
}

/** Everything about a batch except its record bytes. */
export interface BatchHeader {
  logId: string;
  seq: number;
  firstIndex: number;
  count: number;
  /** Chain in: leaf hash of record firstIndex-1 (zero hash for the first batch). */
  prevHash: Uint8Array;
  /** Chain out: leaf hash of the batch's last record. */
  lastLeafHash: Uint8Array;
  /** Every record of a batch carries this one receivedAt. */
  receivedAt: string;
  submitter: string;
  attemptId: string;
  idempotencyKey?: string;
  /**
   * Set by the pending-entry sequencer (src/app/sequencer.ts) only: the
   * accepted entries this batch holds, in record order (entry k's records
   * follow entry k-1's). Committed in the same write as the records, so
   * "is entry X in the log?" is answered by the batches themselves, whatever
   * crashed after the commit (docs/ingest.md §9). Absent on direct appends.
   */
  members?: BatchMember[];
}

/**
 * One accepted entry of a sequenced batch: its accept id, how many records it
 * holds, and its request hash (standard base64), so a receipt rebuilt after a
 * crash still answers an idempotent retry (docs/ingest.md §9).
 */
export interface BatchMember {
  acceptId: string;
  count: number;
  requestHash: string;
}

export interface NewBatch extends BatchHeader {
  /**
   * Distinguishes successive commit tries of one attempt (they carry different
   * bytes). A store that writes auxiliary items before the commit item MUST key
   * them by (attemptId, tryNumber) so a late-landing earlier try can never
   * point at a later try's bytes.
   */
  tryNumber: number;
  /** Canonical record bytes, in index order; records[i] has index firstIndex + i. */
  records: Uint8Array[];
}

export interface StoredRecord {
  index: number;
  bytes: Uint8Array;
}

export interface StoredBatch extends BatchHeader {
  records: StoredRecord[];
}

/** What a client gets back per event (docs/ingest.md §1). Hashes are standard base64. */
export interface Receipt {
  index: number;
  leafHash: string;
  prev: string;
  receivedAt: string;
}

export type IdempotencyState = 'IN_PROGRESS' | 'COMMITTED';

/** An Idempotency-Key claim (Powertools-idempotency style). */
export interface IdempotencyClaim {
  logId: string;
  /** Store key: a hash of (submitter, key), never the raw client text. */
  keyHash: string;
  /** The raw key and submitter, for operators. */
  key: string;
  submitter: string;
  /** SHA-256 of the request (submitter and body). */
  requestHash: Uint8Array;
  attemptId: string;
  /** The tip seq when claimed: a batch of this attempt has a larger seq. */
  tipSeqAtClaim: number;
  /** Lease end, epoch ms. After it, another request may take the claim over. */
  expiresAt: number;
}

export interface IdempotencyRecord extends IdempotencyClaim {
  state: IdempotencyState;
  /** The committed batch, when state = COMMITTED. */
  seq?: number;
}

export type CommitOutcome = { committed: true } | { committed: false; existing: BatchHeader | undefined };

export type ClaimResult = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export interface EventIdEntry {
  id: string;
  index: number;
  seq: number;
}

/** An event id found by readEventIds. */
export interface FoundEventId extends EventIdEntry {
  /**
   * True when it was recorded before issue #11, per log rather than per
   * submitter: it belongs to whoever submitted the record it points at, which
   * the caller must check.
   */
  legacy: boolean;
}

/**
 * Errors a store raises. Anything else a store throws is a bug or a
 * misconfiguration (INTERNAL).
 *  - THROTTLED: the store pushed back; nothing was written. Retry later.
 *  - UNAVAILABLE: transient failure; the write MAY have happened (timeouts).
 *    Callers re-read before retrying.
 *  - INTEGRITY: stored state contradicts itself (broken chain, bad part
 *    hash). Not retryable; needs an operator.
 */
export type LogStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class LogStoreError extends AnchorlogError<LogStoreErrorCode> {}

export interface LogStore {
  /**
   * Creates the log if it does not exist. MUST be idempotent: a second call
   * resolves `{ created: false }` and changes nothing. `createdAt` is RFC 3339.
   */
  createLog(logId: string, createdAt: string): Promise<{ created: boolean }>;

  /** MUST reflect every createLog that resolved before the call (consistent read). */
  logExists(logId: string): Promise<boolean>;

  /** Every log created so far, sorted by logId. */
  listLogs(): Promise<string[]>;

  /**
   * The current tip, read-after-write consistent: it MUST NOT be older than
   * any commitBatch that resolved before the call. Starting from `from` (a tip
   * the caller already knows to be committed, e.g. cached from its last
   * append) saves reads; the store MAY jump ahead via its head hint when
   * `from` is far behind.
   * The tip's nextIndex, lastLeafHash and lastReceivedAt MUST come from the
   * commit of batch `seq` itself (or from `from`, extended batch by batch),
   * never from the head hint: a hint may say where to look, not what is
   * there (issue #11). A wrong hint MAY cost reads and MUST NOT change the
   * answer.
   * MUST throw INTEGRITY if consecutive batches do not chain.
   */
  readTip(logId: string, from?: LogTip): Promise<LogTip>;

  /**
   * The commit point. Atomically creates batch `seq` unless it already exists.
   * Resolves `{ committed: true }` only when this call created it, and only
   * once the batch and everything it references are durable. Resolves
   * `{ committed: false }` when batch `seq` already existed (someone else — or
   * an earlier, late-landing try of the same attempt — won); nothing of this
   * call is then visible, and `existing` SHOULD carry the winner's header
   * (saves the caller a read). MUST NOT make a partial batch visible, ever.
   * On UNAVAILABLE the batch may or may not exist: read it back
   * (readBatchHeader) and compare attemptId.
   * The caller guarantees seq = tip.seq + 1 and chain continuity; the store
   * MAY check but MUST NOT rely on it.
   */
  commitBatch(batch: NewBatch): Promise<CommitOutcome>;

  /** Consistent read of a batch's header (no record bytes); undefined if absent. */
  readBatchHeader(logId: string, seq: number): Promise<BatchHeader | undefined>;

  /**
   * Consistent read of one batch with its record bytes. MUST verify the bytes
   * against what the commit stored (count, chain out) and throw INTEGRITY on
   * mismatch.
   */
  readBatch(logId: string, seq: number): Promise<StoredBatch | undefined>;

  /** Batches fromSeq, fromSeq+1, … up to `limit` of them, stopping at the first absent one. */
  readBatches(logId: string, fromSeq: number, limit: number): Promise<StoredBatch[]>;

  /** The batch in [fromSeq, toSeq] written by `attemptId`, if any. */
  findBatchByAttempt(
    logId: string,
    attemptId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<BatchHeader | undefined>;

  /**
   * Moves the head hint forward to `tip`. A hint only: MUST NOT move it
   * backwards; MAY be skipped or lost (readTip probes past a stale hint), and
   * readTip MUST give the right answer whatever the hint says.
   */
  advanceHead(tip: LogTip): Promise<void>;

  /**
   * Conditionally creates an IN_PROGRESS claim. If a claim for the key exists,
   * resolves `{ claimed: false, existing }` with its current state
   * (consistent).
   */
  claimKey(claim: IdempotencyClaim): Promise<ClaimResult>;

  /**
   * Replaces an IN_PROGRESS claim held by `previousAttemptId` with `claim`.
   * Resolves false (changing nothing) if the claim is no longer that one.
   */
  takeOverKey(claim: IdempotencyClaim, previousAttemptId: string): Promise<boolean>;

  /**
   * Marks the claim COMMITTED with `seq`, if it is still held by `attemptId`
   * (or already committed with that seq). Idempotent. Resolves false if the
   * claim belongs to someone else.
   */
  finishKey(logId: string, keyHash: string, attemptId: string, seq: number): Promise<boolean>;

  /** Deletes the claim if still IN_PROGRESS and held by `attemptId`; otherwise does nothing. */
  releaseKey(logId: string, keyHash: string, attemptId: string): Promise<void>;

  /**
   * Consistent lookup of client event ids in the namespace `submitter` (the
   * submitter itself on producers' logs, so no writer can take an id another
   * will use; one namespace for the whole `system` log: src/app/ingest.ts
   * eventIdScope, docs/ingest.md §4). Also returns, marked `legacy`, an id recorded per
   * log before issue #11 when `submitter` has none of its own; absent ids are
   * absent from the map.
   */
  readEventIds(logId: string, submitter: string, ids: readonly string[]): Promise<Map<string, FoundEventId>>;

  /** Records where `submitter`'s client event ids landed. Idempotent; durable when it resolves. */
  writeEventIds(logId: string, submitter: string, entries: readonly EventIdEntry[]): Promise<void>;
}

/** The tip after batch `h`, which must continue `tip` (else INTEGRITY). */
export function nextTip(tip: LogTip, h: BatchHeader): LogTip {
  if (h.seq !== tip.seq + 1 || h.firstIndex !== tip.nextIndex || !bytesEqual(h.prevHash, tip.lastLeafHash)) {
    throw new LogStoreError(
      'INTEGRITY',
      `batch ${h.seq} of log ${h.logId} does not continue the chain at index ${tip.nextIndex}`,
    );
  }
  return {
    logId: h.logId,
    seq: h.seq,
    nextIndex: h.firstIndex + h.count,
    lastLeafHash: h.lastLeafHash,
    lastReceivedAt: h.receivedAt,
  };
}
