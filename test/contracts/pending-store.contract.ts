/**
 * The PendingStore contract (src/ports/pending-store.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import type { EntryReceipt, PendingEntry, PendingStore } from '../../src/ports/pending-store.ts';
import { uniqueId } from './support.ts';

const entry = (logId: string, acceptId: string, acceptedAt: number, n = 1): PendingEntry => ({
  logId,
  acceptId,
  submitter: 'p',
  requestHash: new Uint8Array(32).fill(acceptedAt % 256),
  acceptedAt,
  events: Array.from({ length: n }, (_, i) => utf8(`{"n":${i},"at":${acceptedAt}}`)),
});

const receipt = (logId: string, acceptId: string, seq: number, count: number): EntryReceipt => ({
  logId,
  acceptId,
  submitter: 'p',
  requestHash: new Uint8Array(32).fill(7),
  seq,
  firstIndex: seq * 10,
  receivedAt: '2026-03-01T12:00:00.000Z',
  prevHash: new Uint8Array(32).fill(1),
  leafHashes: Array.from({ length: count }, (_, i) => new Uint8Array(32).fill(i + 2)),
});

export function pendingStoreContract(name: string, make: () => Promise<PendingStore>): void {
  describe(`PendingStore contract: ${name}`, () => {
    let store: PendingStore;
    beforeAll(async () => {
      store = await make();
    });

    it('accept is a conditional create: a second accept of the same id changes nothing and returns the first', async () => {
      const log = uniqueId('acc');
      const a = entry(log, 'x1', 1_000, 2);
      expect(await store.accept(a)).toEqual({ accepted: true });
      const again = await store.accept({ ...a, acceptedAt: 2_000, requestHash: new Uint8Array(32) });
      expect(again.accepted).toBe(false);
      if (!again.accepted) expect(again.existing).toEqual(a);
      expect(await store.listPending(log, 10)).toEqual([a]);
    });

    it('listPending: oldest accept first, at most limit, only that log; removePending is idempotent', async () => {
      const log = uniqueId('list');
      const other = uniqueId('other');
      const es = [3, 1, 2, 5, 4].map((t) => entry(log, `id-${t}`, t * 1000));
      for (const e of es) await store.accept(e);
      await store.accept(entry(other, 'id-9', 1));
      const listed = await store.listPending(log, 3);
      expect(listed.map((e) => e.acceptId)).toEqual(['id-1', 'id-2', 'id-3']);
      await store.removePending(log, ['id-1', 'id-3', 'never']);
      await store.removePending(log, ['id-1']);
      expect((await store.listPending(log, 10)).map((e) => e.acceptId)).toEqual(['id-2', 'id-4', 'id-5']);
      expect((await store.listPending(other, 10)).map((e) => e.acceptId)).toEqual(['id-9']);
    });

    it('readQueued: queued ids with their submitters, removed and unknown ids absent, only that log', async () => {
      const log = uniqueId('q');
      await store.accept(entry(log, 'q1', 1));
      await store.accept({ ...entry(log, 'q2', 2), submitter: 'other' });
      await store.accept(entry(uniqueId('q-other'), 'q3', 3));
      await store.removePending(log, ['q2']);
      const got = await store.readQueued(log, ['q1', 'q2', 'q3', 'never']);
      expect([...got.entries()]).toEqual([['q1', { submitter: 'p' }]]);
      expect((await store.readQueued(log, [])).size).toBe(0);
    });

    it('receipts: written idempotently, read back by id, absent ids absent', async () => {
      const log = uniqueId('rc');
      const r = receipt(log, 'a', 3, 4);
      await store.writeReceipts([r, receipt(log, 'b', 4, 1)]);
      await store.writeReceipts([r]);
      const got = await store.readReceipts(log, ['a', 'missing', 'b']);
      expect([...got.keys()].sort()).toEqual(['a', 'b']);
      expect(got.get('a')).toEqual(r);
      expect((await store.readReceipts(uniqueId('none'), ['a'])).size).toBe(0);
    });

    it('lease: one holder until it expires or is released; progress only by the holder, doneSeq forward only', async () => {
      const log = uniqueId('lease');
      expect(await store.readLease(log)).toBeUndefined();
      const a = await store.acquireLease(log, 'A', 1_000, 500);
      expect(a).toMatchObject({ holder: 'A', expiresAt: 1_500, doneSeq: undefined });
      expect(await store.acquireLease(log, 'B', 1_200, 500)).toBeUndefined();
      expect(await store.acquireLease(log, 'A', 1_200, 500)).toMatchObject({ holder: 'A', expiresAt: 1_700 });
      expect(await store.recordProgress(log, 'A', 7, 3)).toBe(true);
      expect(await store.recordProgress(log, 'B', 9, 0)).toBe(false);
      expect(await store.recordProgress(log, 'A', 5, 2)).toBe(true);
      expect(await store.readLease(log)).toMatchObject({ holder: 'A', doneSeq: 7, depth: 2 });
      // Expired: another holder takes it, inheriting doneSeq.
      expect(await store.acquireLease(log, 'B', 1_800, 500)).toMatchObject({ holder: 'B', doneSeq: 7 });
      await store.releaseLease(log, 'A');
      expect(await store.acquireLease(log, 'C', 1_900, 500)).toBeUndefined();
      await store.releaseLease(log, 'B');
      expect(await store.acquireLease(log, 'C', 1_900, 500)).toMatchObject({ holder: 'C', doneSeq: 7 });
    });
  });
}
