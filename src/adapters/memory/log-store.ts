/**
 * LogStore in memory (src/ports/log-store.ts), with the semantics of
 * src/adapters/aws/dynamo-log-store.ts that the port promises:
 *  - commitBatch is the one commit point: batch `seq` is created whole or not
 *    at all, the loser of a race learns the winner's header;
 *  - readTip takes only the head hint's seq as a place to start, builds the
 *    tip from the batches themselves and refuses (INTEGRITY) a batch that
 *    does not continue the chain;
 *  - readBatch checks what it returns against the commit (count, chain out);
 *  - idempotency claims and event ids under the same conditions as the
 *    conditional writes of the DynamoDB adapter.
 * Stored values are copies: a caller that later changes its arrays changes
 * nothing here. The transient codes (THROTTLED, UNAVAILABLE) come only from
 * injected faults (`faults`, ./faults.ts). There is no legacy location (the
 * port lets a store fall back to one; this store never had one).
 */
import { bytesEqual } from '../../core/bytes.ts';
import { leafHash, ZERO_HASH } from '../../core/record.ts';
import {
  type BatchHeader,
  type ClaimResult,
  type CommitOutcome,
  type EventIdEntry,
  type FoundEventId,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type LogStore,
  LogStoreError,
  type LogStoreErrorCode,
  type LogTip,
  type NewBatch,
  nextTip,
  type StoredBatch,
} from '../../ports/log-store.ts';
import { FaultPlan } from './faults.ts';

interface Batch {
  readonly header: BatchHeader;
  readonly records: readonly Uint8Array[];
}

const copyHeader = (h: BatchHeader): BatchHeader => {
  const out: BatchHeader = {
    logId: h.logId,
    seq: h.seq,
    firstIndex: h.firstIndex,
    count: h.count,
    prevHash: Uint8Array.from(h.prevHash),
    lastLeafHash: Uint8Array.from(h.lastLeafHash),
    receivedAt: h.receivedAt,
    submitter: h.submitter,
    attemptId: h.attemptId,
  };
  if (h.idempotencyKey !== undefined) out.idempotencyKey = h.idempotencyKey;
  if (h.members !== undefined) out.members = h.members.map((m) => ({ ...m }));
  return out;
};

const emptyTip = (logId: string): LogTip => ({
  logId,
  seq: 0,
  nextIndex: 0,
  lastLeafHash: ZERO_HASH,
  lastReceivedAt: undefined,
});

/** `\0` cannot occur in a log id, key hash or submitter, so joined keys are unambiguous. */
const k = (...parts: readonly (string | number)[]) => parts.join('\0');

export class MemoryLogStore implements LogStore {
  readonly #logs = new Map<string, string>();
  readonly #batches = new Map<string, Batch>();
  readonly #heads = new Map<string, LogTip>();
  readonly #claims = new Map<string, IdempotencyRecord>();
  readonly #eventIds = new Map<string, EventIdEntry>();
  readonly faults = new FaultPlan<LogStoreErrorCode>((code, message) => new LogStoreError(code, message));

  // --- logs ---

  createLog(logId: string, createdAt: string): Promise<{ created: boolean }> {
    return this.faults.run('createLog', logId, () => {
      if (this.#logs.has(logId)) return { created: false };
      this.#logs.set(logId, createdAt);
      return { created: true };
    });
  }

  logExists(logId: string): Promise<boolean> {
    return this.faults.run('logExists', logId, () => this.#logs.has(logId));
  }

  listLogs(): Promise<string[]> {
    return this.faults.run('listLogs', '', () => [...this.#logs.keys()].sort());
  }

  /** When `logId` was created (RFC 3339), for tests. */
  createdAt(logId: string): string | undefined {
    return this.#logs.get(logId);
  }

  // --- tip ---

  readTip(logId: string, from?: LogTip): Promise<LogTip> {
    return this.faults.run('readTip', logId, () => {
      let tip = from ?? this.#tipNearHead(logId);
      for (;;) {
        const b = this.#batches.get(k(logId, tip.seq + 1));
        if (!b) return tip;
        tip = nextTip(tip, b.header);
      }
    });
  }

  /**
   * Where the head hint says to start: the tip right after the batch it
   * names, made from that batch's own header (never from the hint's other
   * fields, issue #11); the empty tip when the hint names nothing stored.
   */
  #tipNearHead(logId: string): LogTip {
    const hinted = this.#heads.get(logId)?.seq ?? 0;
    // Batches 1..n exist and none after n: halve down to the last one at or
    // below the hint (a hint past the end costs steps, never the answer).
    let lo = 0;
    let hi = hinted + 1;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.#batches.has(k(logId, mid))) lo = mid;
      else hi = mid;
    }
    const b = this.#batches.get(k(logId, lo))?.header;
    if (!b) return emptyTip(logId);
    return {
      logId,
      seq: lo,
      nextIndex: b.firstIndex + b.count,
      lastLeafHash: Uint8Array.from(b.lastLeafHash),
      lastReceivedAt: b.receivedAt,
    };
  }

  advanceHead(tip: LogTip): Promise<void> {
    return this.faults.run('advanceHead', tip.logId, () => {
      if (tip.seq === 0 || tip.lastReceivedAt === undefined) return;
      const current = this.#heads.get(tip.logId);
      // Forward only: a slow writer must not drag the hint back.
      if (current && current.seq >= tip.seq) return;
      this.#heads.set(tip.logId, { ...tip, lastLeafHash: Uint8Array.from(tip.lastLeafHash) });
    });
  }

  /** The head hint as stored (tests; the port never returns it). */
  headHint(logId: string): LogTip | undefined {
    return this.#heads.get(logId);
  }

  // --- batches ---

  commitBatch(batch: NewBatch): Promise<CommitOutcome> {
    return this.faults.run('commitBatch', batch.logId, (): CommitOutcome => {
      const key = k(batch.logId, batch.seq);
      const existing = this.#batches.get(key);
      if (existing) return { committed: false, existing: copyHeader(existing.header) };
      // COMMIT POINT: header and records land together, in one step.
      this.#batches.set(key, {
        header: copyHeader(batch),
        records: batch.records.map((r) => Uint8Array.from(r)),
      });
      return { committed: true };
    });
  }

  readBatchHeader(logId: string, seq: number): Promise<BatchHeader | undefined> {
    return this.faults.run('readBatchHeader', logId, () => {
      const b = this.#batches.get(k(logId, seq));
      return b ? copyHeader(b.header) : undefined;
    });
  }

  readBatch(logId: string, seq: number): Promise<StoredBatch | undefined> {
    return this.faults.run('readBatch', logId, () => {
      const b = this.#batches.get(k(logId, seq));
      return b ? checked(b) : undefined;
    });
  }

  readBatches(logId: string, fromSeq: number, limit: number): Promise<StoredBatch[]> {
    return this.faults.run('readBatches', logId, () => {
      const out: StoredBatch[] = [];
      for (let i = 0; i < limit; i++) {
        const b = this.#batches.get(k(logId, fromSeq + i));
        if (!b) break;
        out.push(checked(b));
      }
      return out;
    });
  }

  findBatchByAttempt(
    logId: string,
    attemptId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<BatchHeader | undefined> {
    return this.faults.run('findBatchByAttempt', logId, () => {
      for (let s = Math.max(1, fromSeq); s <= toSeq; s++) {
        const h = this.#batches.get(k(logId, s))?.header;
        if (h?.attemptId === attemptId) return copyHeader(h);
      }
      return undefined;
    });
  }

  // --- idempotency keys ---

  claimKey(claim: IdempotencyClaim): Promise<ClaimResult> {
    return this.faults.run('claimKey', claim.logId, (): ClaimResult => {
      const key = k(claim.logId, claim.keyHash);
      const existing = this.#claims.get(key);
      if (existing) return { claimed: false, existing: structuredClone(existing) };
      this.#claims.set(key, inProgress(claim));
      return { claimed: true };
    });
  }

  takeOverKey(claim: IdempotencyClaim, previousAttemptId: string): Promise<boolean> {
    return this.faults.run('takeOverKey', claim.logId, () => {
      const key = k(claim.logId, claim.keyHash);
      const existing = this.#claims.get(key);
      if (existing?.state !== 'IN_PROGRESS' || existing.attemptId !== previousAttemptId) return false;
      this.#claims.set(key, inProgress(claim));
      return true;
    });
  }

  finishKey(logId: string, keyHash: string, attemptId: string, seq: number): Promise<boolean> {
    return this.faults.run('finishKey', logId, () => {
      const existing = this.#claims.get(k(logId, keyHash));
      // Held by us (IN_PROGRESS, or COMMITTED by an earlier call of ours whose answer was lost).
      if (!existing || existing.attemptId !== attemptId) return false;
      if (existing.state !== 'IN_PROGRESS' && existing.seq !== seq) return false;
      existing.state = 'COMMITTED';
      existing.seq = seq;
      return true;
    });
  }

  releaseKey(logId: string, keyHash: string, attemptId: string): Promise<void> {
    return this.faults.run('releaseKey', logId, () => {
      const key = k(logId, keyHash);
      const existing = this.#claims.get(key);
      if (existing?.state === 'IN_PROGRESS' && existing.attemptId === attemptId) this.#claims.delete(key);
    });
  }

  // --- event ids ---

  readEventIds(logId: string, submitter: string, ids: readonly string[]): Promise<Map<string, FoundEventId>> {
    return this.faults.run('readEventIds', logId, () => {
      const out = new Map<string, FoundEventId>();
      for (const id of ids) {
        const e = this.#eventIds.get(k(logId, submitter, id));
        if (e) out.set(id, { ...e, legacy: false });
      }
      return out;
    });
  }

  writeEventIds(logId: string, submitter: string, entries: readonly EventIdEntry[]): Promise<void> {
    return this.faults.run('writeEventIds', logId, () => {
      for (const e of entries)
        this.#eventIds.set(k(logId, submitter, e.id), { id: e.id, index: e.index, seq: e.seq });
    });
  }
}

function inProgress(c: IdempotencyClaim): IdempotencyRecord {
  return {
    logId: c.logId,
    keyHash: c.keyHash,
    key: c.key,
    submitter: c.submitter,
    requestHash: Uint8Array.from(c.requestHash),
    attemptId: c.attemptId,
    tipSeqAtClaim: c.tipSeqAtClaim,
    expiresAt: c.expiresAt,
    state: 'IN_PROGRESS',
  };
}

/** A stored batch, checked against its own commit (port: readBatch MUST verify count and chain out). */
function checked(b: Batch): StoredBatch {
  const h = b.header;
  if (b.records.length !== h.count)
    throw new LogStoreError(
      'INTEGRITY',
      `batch ${h.seq}: holds ${b.records.length} records, header says ${h.count}`,
    );
  const last = b.records[b.records.length - 1];
  if (last === undefined || !bytesEqual(leafHash(last), h.lastLeafHash))
    throw new LogStoreError('INTEGRITY', `batch ${h.seq}: last record does not hash to lastLeafHash`);
  return {
    ...copyHeader(h),
    records: b.records.map((bytes, i) => ({ index: h.firstIndex + i, bytes: Uint8Array.from(bytes) })),
  };
}
