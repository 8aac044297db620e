/**
 * The PendingStore port: where ingest puts requests it has *accepted* but not
 * yet *sequenced* (docs/ingest.md §9). An accepted entry is durable the moment
 * `accept` resolves; a sequencer (src/app/sequencer.ts) later gives all
 * pending entries of a log their indexes, `prev` and `receivedAt` in one
 * LogStore commit, whose batch names them (`BatchHeader.members`), then
 * records a receipt per entry and removes it from the queue.
 *
 * Vocabulary:
 *  - an *entry* is one accepted request: its validated events, canonical,
 *    named by `acceptId` (the idempotency key's hash when the request has a
 *    key, so a retry lands on the same entry; random otherwise);
 *  - a *receipt* is where an entry landed: the batch, its first index and the
 *    leaf hashes, written after the commit;
 *  - the *lease* names the one sequencer of a log at a time. It is an
 *    optimisation, not the safety argument: batches are committed
 *    conditionally at tip+1 and name their members, so two sequencers at
 *    once cost a lost race, never a duplicate (docs/ingest.md §9).
 */
import { AnchorlogError } from '../core/errors.ts';

export interface PendingEntry {
  logId: string;
  acceptId: string;
  /** The authenticated principal that sent the request. */
  submitter: string;
  /** SHA-256 of (submitter, body): a retry with the same key must match it. */
  requestHash: Uint8Array;
  /** The raw Idempotency-Key (or the implicit `ids:` key), for operators and the batch header. */
  idempotencyKey?: string;
  /** Accept time, epoch ms (order of sequencing; the receivedAt is assigned later). */
  acceptedAt: number;
  /** The request's events, canonical JSON bytes, in request order. */
  events: Uint8Array[];
}

/** Where an entry landed. Receipts of its events follow from it without reading the batch. */
export interface EntryReceipt {
  logId: string;
  acceptId: string;
  submitter: string;
  requestHash: Uint8Array;
  seq: number;
  firstIndex: number;
  receivedAt: string;
  /** Leaf hash of record firstIndex-1 (the first record's `prev`). */
  prevHash: Uint8Array;
  /** The records' leaf hashes, in index order. */
  leafHashes: Uint8Array[];
}

export type AcceptOutcome = { accepted: true } | { accepted: false; existing: PendingEntry };

export interface SequencerLease {
  logId: string;
  holder: string;
  /** Epoch ms; after it another sequencer may take the lease. */
  expiresAt: number;
  /**
   * Every batch up to this seq has had its members' receipts written and
   * their entries removed. A new holder finishes (doneSeq, tip] first.
   * Undefined until a holder first records progress: a sequencer records
   * the tip it starts from *before* its first commit, so no batch with
   * members can lie before an undefined doneSeq's first recorded value.
   */
  doneSeq: number | undefined;
  /** Entries pending when the last holder last looked (back-pressure hint). */
  depth: number;
}

/**
 *  - THROTTLED: the store pushed back; nothing was written.
 *  - UNAVAILABLE: transient; a write MAY have happened.
 *  - INTEGRITY: a stored item does not read back as written.
 */
export type PendingStoreErrorCode = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';
export class PendingStoreError extends AnchorlogError<PendingStoreErrorCode> {}

export interface PendingStore {
  /**
   * Durably queues `entry` unless an entry with its (logId, acceptId) is
   * queued already; then resolves `{ accepted: false, existing }` and
   * changes nothing. Durable when it resolves `{ accepted: true }`.
   */
  accept(entry: PendingEntry): Promise<AcceptOutcome>;

  /**
   * Queued entries of a log, oldest accept first, at most `limit`. MAY
   * include entries that are already in a committed batch (the sequencer
   * died before removing them): the caller checks batch members and receipts.
   */
  listPending(logId: string, limit: number): Promise<PendingEntry[]>;

  /**
   * Which of `acceptIds` are queued now, with their submitters (consistent
   * read). With readReceipts it tells *pending* from *unknown*: read this
   * first, then the receipts, since an entry leaves the queue only after its
   * receipt is written (or its writer got it in memory, docs/ingest.md §9).
   */
  readQueued(logId: string, acceptIds: readonly string[]): Promise<Map<string, { submitter: string }>>;

  /** Removes queued entries (idempotent: absent ones are ignored). */
  removePending(logId: string, acceptIds: readonly string[]): Promise<void>;

  /** Writes receipts (idempotent: the same receipt again changes nothing). Durable when it resolves. */
  writeReceipts(receipts: readonly EntryReceipt[]): Promise<void>;

  /** Consistent read of receipts by accept id; absent ones are absent from the map. */
  readReceipts(logId: string, acceptIds: readonly string[]): Promise<Map<string, EntryReceipt>>;

  /**
   * Takes the log's sequencer lease for `holder` until `now + leaseMs` if it
   * is free, expired, or already `holder`'s; resolves undefined (changing
   * nothing) otherwise. A lease never seen before has doneSeq undefined.
   */
  acquireLease(
    logId: string,
    holder: string,
    now: number,
    leaseMs: number,
  ): Promise<SequencerLease | undefined>;

  /**
   * Records progress if `holder` still holds the lease: doneSeq moves forward
   * only (a smaller value leaves it), depth is replaced. Resolves false when
   * the lease is someone else's (nothing changed).
   */
  recordProgress(logId: string, holder: string, doneSeq: number, depth: number): Promise<boolean>;

  /** Ends `holder`'s lease now (expiresAt = 0) if it still holds it; otherwise nothing. */
  releaseLease(logId: string, holder: string): Promise<void>;

  /** The lease as stored (possibly eventually consistent), undefined if never taken. */
  readLease(logId: string): Promise<SequencerLease | undefined>;
}
