/**
 * The LogStore contract (src/ports/log-store.ts) as tests, run against every
 * implementation: test/contracts/memory.test.ts (MemoryLogStore) and
 * test/contracts/aws.test.ts (DynamoLogStore on the emulator). Stores are
 * shared by the tests of one run, so each test uses its own log ids.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import { leafHash, ZERO_HASH } from '../../src/core/record.ts';
import { type LogStore, LogStoreError, type LogTip, type NewBatch } from '../../src/ports/log-store.ts';
import { uniqueId } from './support.ts';

/** A batch of opaque "records" continuing `tip` (the store does not parse records). */
export function batchAt(
  tip: LogTip,
  records: Uint8Array[],
  attemptId = `a-${tip.seq + 1}`,
  tryNumber = 1,
): NewBatch {
  let last = tip.lastLeafHash;
  for (const r of records) last = leafHash(r);
  return {
    logId: tip.logId,
    seq: tip.seq + 1,
    firstIndex: tip.nextIndex,
    count: records.length,
    prevHash: tip.lastLeafHash,
    lastLeafHash: last,
    receivedAt: '2026-03-01T12:00:00.000Z',
    submitter: 'p',
    attemptId,
    tryNumber,
    records,
  };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function logStoreContract(name: string, make: () => Promise<LogStore>): void {
  describe(`LogStore contract: ${name}`, () => {
    let store: LogStore;
    beforeAll(async () => {
      store = await make();
    });

    it('creates logs idempotently, finds them, lists them sorted', async () => {
      const [a, b] = [uniqueId('a-log'), uniqueId('b-log')];
      expect(await store.createLog(b, '2026-03-01T12:00:00.000Z')).toEqual({ created: true });
      expect(await store.createLog(b, '2026-03-02T12:00:00.000Z')).toEqual({ created: false });
      await store.createLog(a, '2026-03-01T12:00:00.000Z');
      expect(await store.logExists(b)).toBe(true);
      expect(await store.logExists(uniqueId('nope'))).toBe(false);
      const all = await store.listLogs();
      expect(all).toEqual(expect.arrayContaining([a, b]));
      expect(all).toEqual([...all].sort());
    });

    it('an empty log has the empty tip', async () => {
      const tip = await store.readTip(uniqueId('empty'));
      expect(tip).toMatchObject({ seq: 0, nextIndex: 0, lastReceivedAt: undefined });
      expect(bytesEqual(tip.lastLeafHash, ZERO_HASH)).toBe(true);
    });

    it('commits conditionally, reads back, and finds the tip past a stale head hint', async () => {
      const log = uniqueId('t');
      let tip = await store.readTip(log);
      const b1 = batchAt(tip, [utf8('r0'), utf8('r1')]);
      expect(await store.commitBatch(b1)).toEqual({ committed: true });
      // Same seq again: nothing of the loser is visible, and it learns the winner.
      const lost = await store.commitBatch({ ...batchAt(tip, [utf8('other')]), attemptId: 'other' });
      expect(lost.committed).toBe(false);
      if (!lost.committed && lost.existing) expect(lost.existing.attemptId).toBe(b1.attemptId);
      tip = await store.readTip(log);
      expect(tip).toMatchObject({ seq: 1, nextIndex: 2, lastReceivedAt: '2026-03-01T12:00:00.000Z' });
      expect(bytesEqual(tip.lastLeafHash, b1.lastLeafHash)).toBe(true);
      await store.advanceHead(tip);
      const b2 = batchAt(tip, [utf8('r2')]);
      await store.commitBatch(b2);
      const b3 = batchAt({ ...tip, seq: 2, nextIndex: 3, lastLeafHash: b2.lastLeafHash }, [utf8('r3')]);
      await store.commitBatch(b3);
      // Head says 1; the probe walks to 3.
      expect(await store.readTip(log)).toMatchObject({ seq: 3, nextIndex: 4 });
      // From a tip the caller knows, too.
      expect(await store.readTip(log, tip)).toMatchObject({ seq: 3, nextIndex: 4 });
      // The hint never moves backwards.
      await store.advanceHead({ ...tip, seq: 3, nextIndex: 4, lastLeafHash: b3.lastLeafHash });
      await store.advanceHead(tip);
      expect((await store.readTip(log)).seq).toBe(3);
      const batches = await store.readBatches(log, 1, 10);
      expect(batches.map((b) => b.seq)).toEqual([1, 2, 3]);
      expect(batches.flatMap((b) => b.records.map((r) => [r.index, text(r.bytes)]))).toEqual([
        [0, 'r0'],
        [1, 'r1'],
        [2, 'r2'],
        [3, 'r3'],
      ]);
      expect((await store.readBatches(log, 2, 1)).map((b) => b.seq)).toEqual([2]);
      expect(await store.readBatches(log, 4, 10)).toEqual([]);
      expect(await store.readBatch(log, 4)).toBeUndefined();
      expect(await store.readBatchHeader(log, 4)).toBeUndefined();
      const h2 = await store.readBatchHeader(log, 2);
      expect(h2).toMatchObject({ seq: 2, firstIndex: 2, count: 1, attemptId: 'a-2', submitter: 'p' });
      expect(h2 && 'records' in h2).toBe(false);
      expect((await store.findBatchByAttempt(log, 'a-2', 1, 3))?.seq).toBe(2);
      expect(await store.findBatchByAttempt(log, 'a-2', 3, 3)).toBeUndefined();
      expect(await store.findBatchByAttempt(log, 'nobody', 1, 3)).toBeUndefined();
    });

    it('keeps the batch header fields, the idempotency key included', async () => {
      const log = uniqueId('hdr');
      const b = { ...batchAt(await store.readTip(log), [utf8('x')]), idempotencyKey: 'key-1' };
      await store.commitBatch(b);
      const h = await store.readBatchHeader(log, 1);
      expect(h).toMatchObject({ logId: log, idempotencyKey: 'key-1', receivedAt: b.receivedAt });
      expect(bytesEqual(h?.prevHash ?? new Uint8Array(), ZERO_HASH)).toBe(true);
      expect(bytesEqual(h?.lastLeafHash ?? new Uint8Array(), b.lastLeafHash)).toBe(true);
    });

    it('stores copies: changing the committed arrays afterwards changes nothing', async () => {
      const log = uniqueId('copy');
      const record = utf8('original');
      const b = batchAt(await store.readTip(log), [record]);
      await store.commitBatch(b);
      record.fill(0x21);
      b.lastLeafHash.fill(0);
      const back = await store.readBatch(log, 1);
      expect(text(back?.records[0]?.bytes ?? new Uint8Array())).toBe('original');
    });

    it('refuses to extend a broken chain (INTEGRITY)', async () => {
      const log = uniqueId('broken');
      const tip = await store.readTip(log);
      await store.commitBatch(batchAt(tip, [utf8('x')]));
      // A batch 2 whose prevHash is not batch 1's last leaf hash.
      await store.commitBatch({
        ...batchAt({ ...tip, seq: 1, nextIndex: 1 }, [utf8('y')]),
        prevHash: new Uint8Array(32).fill(7),
      });
      const err = await store.readTip(log).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LogStoreError);
      expect(err).toMatchObject({ code: 'INTEGRITY' });
    });

    it('reads a batch only as committed: records that do not hash to lastLeafHash are INTEGRITY', async () => {
      const log = uniqueId('liar');
      const b = batchAt(await store.readTip(log), [utf8('a'), utf8('b')]);
      await store.commitBatch({ ...b, lastLeafHash: new Uint8Array(32).fill(9) });
      await expect(store.readBatch(log, 1)).rejects.toMatchObject({ code: 'INTEGRITY' });
      await expect(store.readBatches(log, 1, 5)).rejects.toMatchObject({ code: 'INTEGRITY' });
      const short = uniqueId('short');
      const c = batchAt(await store.readTip(short), [utf8('a'), utf8('b')]);
      await store.commitBatch({ ...c, count: 3 });
      await expect(store.readBatch(short, 1)).rejects.toMatchObject({ code: 'INTEGRITY' });
    });

    it('takes the tip from the batches, never from the head hint beyond its seq (issue #11)', async () => {
      const log = uniqueId('hinted');
      let tip = await store.readTip(log);
      const b1 = batchAt(tip, [utf8('h0'), utf8('h1')]);
      await store.commitBatch(b1);
      tip = await store.readTip(log);
      const truth = { seq: 1, nextIndex: 2, lastReceivedAt: '2026-03-01T12:00:00.000Z' };
      // A hint with the right seq but wrong hash, index and time.
      await store.advanceHead({
        logId: log,
        seq: 1,
        nextIndex: 7,
        lastLeafHash: new Uint8Array(32).fill(0xee),
        lastReceivedAt: '2026-06-01T00:00:00.000Z',
      });
      let got = await store.readTip(log);
      expect(got).toMatchObject(truth);
      expect(bytesEqual(got.lastLeafHash, b1.lastLeafHash)).toBe(true);
      // A hint past the end of the log: the end is found, not believed.
      await store.advanceHead({ ...tip, seq: 1_000_000, nextIndex: 9 });
      got = await store.readTip(log);
      expect(got).toMatchObject(truth);
      expect(bytesEqual(got.lastLeafHash, b1.lastLeafHash)).toBe(true);
      // Also when a caller's cached tip is far behind.
      let last = b1;
      for (let i = 2; i <= 7; i++) {
        last = batchAt(got, [utf8(`h${i}`)]);
        await store.commitBatch(last);
        got = await store.readTip(log, got);
      }
      got = await store.readTip(log, { ...tip, seq: 0, nextIndex: 0, lastLeafHash: ZERO_HASH });
      expect(got).toMatchObject({ seq: 7, nextIndex: 8 });
      expect(bytesEqual(got.lastLeafHash, last.lastLeafHash)).toBe(true);
    });

    it('round-trips large incompressible batches whole', async () => {
      const log = uniqueId('large');
      const records = Array.from({ length: 12 }, () => crypto.getRandomValues(new Uint8Array(60_000)));
      expect((await store.commitBatch(batchAt(await store.readTip(log), records))).committed).toBe(true);
      const back = await store.readBatch(log, 1);
      // bytesEqual, not toEqual: deep equality on a megabyte of bytes is slow in vitest.
      expect(back?.records.length).toBe(records.length);
      expect(back?.records.every((r, i) => bytesEqual(r.bytes, records[i] ?? new Uint8Array()))).toBe(true);
      // A large commit that loses leaves nothing of itself behind the winner.
      const race = uniqueId('race');
      const t0 = await store.readTip(race);
      await store.commitBatch(batchAt(t0, [utf8('winner')]));
      expect((await store.commitBatch(batchAt(t0, records, 'loser'))).committed).toBe(false);
      const b = await store.readBatch(race, 1);
      expect(b?.attemptId).toBe('a-1');
      expect(b?.records.map((r) => text(r.bytes))).toEqual(['winner']);
    });

    it('idempotency claims: claim, conflict, take over, finish, release', async () => {
      const logId = uniqueId('ik');
      const claim = {
        logId,
        keyHash: 'h1',
        key: 'k',
        submitter: 'p',
        requestHash: new Uint8Array(32).fill(1),
        attemptId: 'att-1',
        tipSeqAtClaim: 0,
        expiresAt: 1000,
      };
      expect(await store.claimKey(claim)).toEqual({ claimed: true });
      const again = await store.claimKey({ ...claim, attemptId: 'att-2' });
      expect(again.claimed).toBe(false);
      expect(!again.claimed && again.existing).toMatchObject({
        logId,
        state: 'IN_PROGRESS',
        attemptId: 'att-1',
        keyHash: 'h1',
        key: 'k',
        submitter: 'p',
        tipSeqAtClaim: 0,
        expiresAt: 1000,
      });
      expect(!again.claimed && again.existing.seq).toBeUndefined();
      expect(await store.takeOverKey({ ...claim, attemptId: 'att-3' }, 'wrong')).toBe(false);
      expect(await store.takeOverKey({ ...claim, attemptId: 'att-3', expiresAt: 2000 }, 'att-1')).toBe(true);
      expect(await store.finishKey(logId, 'h1', 'att-1', 5)).toBe(false);
      expect(await store.finishKey(logId, 'h1', 'att-3', 5)).toBe(true);
      expect(await store.finishKey(logId, 'h1', 'att-3', 5)).toBe(true); // idempotent
      expect(await store.finishKey(logId, 'h1', 'att-3', 6)).toBe(false); // committed with another seq
      // A committed claim cannot be taken over.
      expect(await store.takeOverKey({ ...claim, attemptId: 'att-9' }, 'att-3')).toBe(false);
      const done = await store.claimKey({ ...claim, attemptId: 'att-4' });
      expect(!done.claimed && done.existing).toMatchObject({
        state: 'COMMITTED',
        seq: 5,
        attemptId: 'att-3',
        expiresAt: 2000,
      });
      await store.releaseKey(logId, 'h1', 'att-3'); // committed: not released
      expect((await store.claimKey({ ...claim, attemptId: 'att-5' })).claimed).toBe(false);
      await store.claimKey({ ...claim, keyHash: 'h2' });
      await store.releaseKey(logId, 'h2', 'someone-else'); // not the holder: kept
      expect((await store.claimKey({ ...claim, keyHash: 'h2' })).claimed).toBe(false);
      await store.releaseKey(logId, 'h2', 'att-1');
      expect((await store.claimKey({ ...claim, keyHash: 'h2' })).claimed).toBe(true);
      // No claim at all: nothing to take over or finish.
      expect(await store.takeOverKey({ ...claim, keyHash: 'h3' }, 'att-1')).toBe(false);
      expect(await store.finishKey(logId, 'h3', 'att-1', 1)).toBe(false);
    });

    it('event ids: per submitter, idempotent, any number at once', async () => {
      const logId = uniqueId('eid');
      const entries = Array.from({ length: 130 }, (_, i) => ({
        id: `id/${i}#x`,
        index: i,
        seq: 1 + (i >> 4),
      }));
      await store.writeEventIds(logId, 'p', entries);
      await store.writeEventIds(logId, 'p', entries.slice(0, 3)); // idempotent
      const got = await store.readEventIds(logId, 'p', [...entries.map((e) => e.id), 'absent', 'id/0#x']);
      expect(got.size).toBe(130);
      expect(got.get('id/129#x')).toEqual({ id: 'id/129#x', index: 129, seq: 9, legacy: false });
      expect(got.has('absent')).toBe(false);
      // Another submitter's namespace is its own, and so is another log's.
      expect(
        (
          await store.readEventIds(
            logId,
            'q',
            entries.map((e) => e.id),
          )
        ).size,
      ).toBe(0);
      expect((await store.readEventIds(uniqueId('other'), 'p', ['id/1#x'])).size).toBe(0);
      expect((await store.readEventIds(logId, 'p', [])).size).toBe(0);
    });
  });
}
