/**
 * PendingStore in memory (src/ports/pending-store.ts), with the semantics of
 * src/adapters/aws/dynamo-pending-store.ts: accept is a conditional create,
 * the lease a conditional update, receipts and removals idempotent. Stored
 * values are copies. Transient codes come only from injected faults
 * (`faults`, ./faults.ts), which is how the sequencer's crash table runs.
 */
import {
  type AcceptOutcome,
  type EntryReceipt,
  type PendingEntry,
  type PendingStore,
  PendingStoreError,
  type PendingStoreErrorCode,
  type SequencerLease,
} from '../../ports/pending-store.ts';
import { FaultPlan } from './faults.ts';

const k = (logId: string, id: string) => `${logId}\0${id}`;
const copyEntry = (e: PendingEntry): PendingEntry => ({
  ...e,
  requestHash: Uint8Array.from(e.requestHash),
  events: e.events.map((b) => Uint8Array.from(b)),
});
const copyReceipt = (r: EntryReceipt): EntryReceipt => ({
  ...r,
  requestHash: Uint8Array.from(r.requestHash),
  prevHash: Uint8Array.from(r.prevHash),
  leafHashes: r.leafHashes.map((h) => Uint8Array.from(h)),
});

export class MemoryPendingStore implements PendingStore {
  readonly #pending = new Map<string, PendingEntry>();
  readonly #receipts = new Map<string, EntryReceipt>();
  readonly #leases = new Map<string, SequencerLease>();
  readonly faults = new FaultPlan<PendingStoreErrorCode>(
    (code, message) => new PendingStoreError(code, message),
  );

  /** Entries queued for `logId` (tests). */
  depthOf(logId: string): number {
    let n = 0;
    for (const e of this.#pending.values()) if (e.logId === logId) n++;
    return n;
  }

  /** Receipt items stored for `logId` (tests: which writers got one). */
  receiptCount(logId: string): number {
    let n = 0;
    for (const r of this.#receipts.values()) if (r.logId === logId) n++;
    return n;
  }

  accept(entry: PendingEntry): Promise<AcceptOutcome> {
    return this.faults.run('accept', entry.logId, (): AcceptOutcome => {
      const key = k(entry.logId, entry.acceptId);
      const existing = this.#pending.get(key);
      if (existing) return { accepted: false, existing: copyEntry(existing) };
      this.#pending.set(key, copyEntry(entry));
      return { accepted: true };
    });
  }

  listPending(logId: string, limit: number): Promise<PendingEntry[]> {
    return this.faults.run('listPending', logId, () =>
      [...this.#pending.values()]
        .filter((e) => e.logId === logId)
        .sort((a, b) => a.acceptedAt - b.acceptedAt || (a.acceptId < b.acceptId ? -1 : 1))
        .slice(0, limit)
        .map(copyEntry),
    );
  }

  readQueued(logId: string, acceptIds: readonly string[]): Promise<Map<string, { submitter: string }>> {
    return this.faults.run('readQueued', logId, () => {
      const out = new Map<string, { submitter: string }>();
      for (const id of acceptIds) {
        const e = this.#pending.get(k(logId, id));
        if (e) out.set(id, { submitter: e.submitter });
      }
      return out;
    });
  }

  removePending(logId: string, acceptIds: readonly string[]): Promise<void> {
    return this.faults.run('removePending', logId, () => {
      for (const id of acceptIds) this.#pending.delete(k(logId, id));
    });
  }

  writeReceipts(receipts: readonly EntryReceipt[]): Promise<void> {
    return this.faults.run('writeReceipts', receipts[0]?.logId ?? '', () => {
      for (const r of receipts) this.#receipts.set(k(r.logId, r.acceptId), copyReceipt(r));
    });
  }

  readReceipts(logId: string, acceptIds: readonly string[]): Promise<Map<string, EntryReceipt>> {
    return this.faults.run('readReceipts', logId, () => {
      const out = new Map<string, EntryReceipt>();
      for (const id of acceptIds) {
        const r = this.#receipts.get(k(logId, id));
        if (r) out.set(id, copyReceipt(r));
      }
      return out;
    });
  }

  acquireLease(
    logId: string,
    holder: string,
    now: number,
    leaseMs: number,
  ): Promise<SequencerLease | undefined> {
    return this.faults.run('acquireLease', logId, () => {
      const cur = this.#leases.get(logId);
      if (cur && cur.holder !== holder && cur.expiresAt > now) return undefined;
      const next: SequencerLease = {
        logId,
        holder,
        expiresAt: now + leaseMs,
        doneSeq: cur?.doneSeq,
        depth: cur?.depth ?? 0,
      };
      this.#leases.set(logId, next);
      return { ...next };
    });
  }

  recordProgress(logId: string, holder: string, doneSeq: number, depth: number): Promise<boolean> {
    return this.faults.run('recordProgress', logId, () => {
      const cur = this.#leases.get(logId);
      if (!cur || cur.holder !== holder) return false;
      this.#leases.set(logId, { ...cur, doneSeq: Math.max(cur.doneSeq ?? doneSeq, doneSeq), depth });
      return true;
    });
  }

  releaseLease(logId: string, holder: string): Promise<void> {
    return this.faults.run('releaseLease', logId, () => {
      const cur = this.#leases.get(logId);
      if (cur && cur.holder === holder) this.#leases.set(logId, { ...cur, expiresAt: 0 });
    });
  }

  readLease(logId: string): Promise<SequencerLease | undefined> {
    return this.faults.run('readLease', logId, () => {
      const cur = this.#leases.get(logId);
      return cur ? { ...cur } : undefined;
    });
  }
}
