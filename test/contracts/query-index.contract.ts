/**
 * The QueryIndexStore contract (src/ports/query-index.ts), run against every
 * implementation by test/contracts/memory.test.ts and aws.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import {
  type IndexKey,
  type ItemFilter,
  type ProjectorCursor,
  type QueryIndexStore,
  type QueryItem,
  sortKey,
} from '../../src/ports/query-index.ts';
import { uniqueId } from './support.ts';

export const queryItem = (
  i: number,
  receivedAt: string,
  actorId = 'alice',
  action = 'tool.call',
  submitter = 'svc',
): QueryItem => ({
  index: i,
  receivedAt,
  submitter,
  actorId,
  action,
  bytes: utf8(`record ${i}`),
  expiresAtSec: 2_000_000_000,
});

export const projectorCursor = (logId: string, seq: number): ProjectorCursor => ({
  logId,
  seq,
  nextIndex: seq * 2,
  lastReceivedAt: seq === 0 ? undefined : '2026-03-01T12:00:00.000Z',
  updatedAt: 1_000 + seq,
  settled: { seq: Math.max(0, seq - 1), nextIndex: 0, lastReceivedAt: undefined },
  hotWindowMs: 90 * 86_400_000,
});

const DAY1 = '2026-03-01';
const DAY2 = '2026-03-02';

export function queryIndexContract(name: string, make: () => Promise<QueryIndexStore>): void {
  describe(`QueryIndexStore contract: ${name}`, () => {
    let index: QueryIndexStore;
    beforeAll(async () => {
      index = await make();
    });

    const page = (
      logId: string,
      key: IndexKey,
      opts: { lo?: string; hi?: string; limit?: number; filter?: ItemFilter } = {},
    ) =>
      index.query({
        logId,
        key,
        lo: opts.lo ?? '2026-01-01T00:00:00.000Z',
        hi: opts.hi ?? '2026-12-31T00:00:00.000Z',
        limit: opts.limit ?? 100,
        filter: opts.filter ?? {},
      });

    it('moves the cursor by compare-and-swap on its seq', async () => {
      const log = uniqueId('cur');
      expect(await index.readCursor(log)).toBeUndefined();
      expect(await index.advanceCursor(projectorCursor(log, 0), 0)).toBe(true);
      expect(await index.advanceCursor(projectorCursor(log, 0), 0)).toBe(true); // seq 0 is "none yet"
      expect(await index.advanceCursor(projectorCursor(log, 1), 0)).toBe(true);
      expect(await index.advanceCursor(projectorCursor(log, 2), 0)).toBe(false);
      expect(await index.advanceCursor(projectorCursor(log, 3), 2)).toBe(false);
      expect(await index.readCursor(log)).toEqual(projectorCursor(log, 1));
      expect(await index.advanceCursor(projectorCursor(log, 2), 1)).toBe(true);
      expect(await index.readCursor(log)).toEqual(projectorCursor(log, 2));
      expect(await index.readCursor(uniqueId('other'))).toBeUndefined();
    });

    it('reads a day through the time index, in (receivedAt, index) order, idempotently written', async () => {
      const log = uniqueId('time');
      const items = [
        queryItem(2, `${DAY1}T12:00:01.000Z`),
        queryItem(0, `${DAY1}T12:00:00.000Z`),
        queryItem(1, `${DAY1}T12:00:00.000Z`),
        queryItem(3, `${DAY2}T00:00:00.000Z`),
      ];
      await index.putItems(log, items);
      await index.putItems(log, items.slice(0, 2)); // the same record gives the same item
      const day1 = await page(log, { kind: 'time', day: DAY1 });
      expect(day1.items.map((i) => i.index)).toEqual([0, 1, 2]);
      expect(day1.lastKey).toBeUndefined();
      expect(day1.items[2]).toEqual(items[0]);
      expect((await page(log, { kind: 'time', day: DAY2 })).items.map((i) => i.index)).toEqual([3]);
      expect((await page(uniqueId('none'), { kind: 'time', day: DAY1 })).items).toEqual([]);
    });

    it('bounds are inclusive sort keys; a bare timestamp as hi covers that instant', async () => {
      const log = uniqueId('bounds');
      await index.putItems(
        log,
        [0, 1, 2, 3].map((i) => queryItem(i, `${DAY1}T12:00:0${i >> 1}.000Z`)),
      );
      const t = { kind: 'time', day: DAY1 } as const;
      const lo = sortKey(`${DAY1}T12:00:00.000Z`, 1);
      const hi = sortKey(`${DAY1}T12:00:01.000Z`, 2);
      expect((await page(log, t, { lo, hi })).items.map((i) => i.index)).toEqual([1, 2]);
      expect((await page(log, t, { lo, hi: `${DAY1}T12:00:00.000Z` })).items.map((i) => i.index)).toEqual([]);
      expect(
        (await page(log, t, { lo: `${DAY1}T12:00:01.000Z`, hi: `${DAY1}T12:00:01.001Z` })).items,
      ).toHaveLength(2);
    });

    it('pages: at most `limit` items evaluated, then the last evaluated key; filters apply after', async () => {
      const log = uniqueId('pages');
      await index.putItems(
        log,
        Array.from({ length: 7 }, (_, i) =>
          queryItem(i, `${DAY1}T12:00:0${i}.000Z`, i % 2 === 0 ? 'alice' : 'bob'),
        ),
      );
      const t = { kind: 'time', day: DAY1 } as const;
      const first = await page(log, t, { limit: 3, filter: { actorId: 'bob' } });
      expect(first.items.map((i) => i.index)).toEqual([1]);
      expect(first.lastKey).toBe(sortKey(`${DAY1}T12:00:02.000Z`, 2));
      // Continue after the last evaluated key, as the query service does.
      const second = await page(log, t, {
        lo: `${first.lastKey}\u0000`,
        limit: 3,
        filter: { actorId: 'bob' },
      });
      expect(second.items.map((i) => i.index)).toEqual([3, 5]);
      const third = await page(log, t, {
        lo: `${second.lastKey}\u0000`,
        limit: 3,
        filter: { actorId: 'bob' },
      });
      expect(third.items).toEqual([]);
      expect(third.lastKey).toBeUndefined();
      // A page that ends exactly at the end MAY still name its last key.
      const exact = await page(log, t, { limit: 7 });
      expect(exact.items).toHaveLength(7);
      expect([undefined, sortKey(`${DAY1}T12:00:06.000Z`, 6)]).toContain(exact.lastKey);
    });

    it('reads by actor, submitter and action prefix across days', async () => {
      const log = uniqueId('gsi');
      await index.putItems(log, [
        queryItem(0, `${DAY1}T10:00:00.000Z`, 'carol', 'tool.call.search', 'svc-a'),
        queryItem(1, `${DAY1}T11:00:00.000Z`, 'dave', 'tool.result', 'svc-b'),
        queryItem(2, `${DAY2}T09:00:00.000Z`, 'carol', 'access', 'svc-b'),
        queryItem(3, `${DAY2}T10:00:00.000Z`, 'carol', 'tools.call', 'svc-a'),
      ]);
      const ids = async (key: IndexKey, filter: ItemFilter = {}) =>
        (await page(log, key, { filter })).items.map((i) => i.index);
      expect(await ids({ kind: 'actor', actorId: 'carol' })).toEqual([0, 2, 3]);
      expect(await ids({ kind: 'submitter', submitter: 'svc-b' })).toEqual([1, 2]);
      expect(await ids({ kind: 'action', depth: 1, prefix: 'tool' })).toEqual([0, 1]);
      expect(await ids({ kind: 'action', depth: 2, prefix: 'tool.call' })).toEqual([0]);
      expect(await ids({ kind: 'action', depth: 1, prefix: 'access' })).toEqual([2]);
      // A one-segment action has no depth-2 entry.
      expect(await ids({ kind: 'action', depth: 2, prefix: 'access' })).toEqual([]);
      // Filters combine with any index; an action prefix matches whole segments only.
      expect(await ids({ kind: 'actor', actorId: 'carol' }, { submitter: 'svc-a' })).toEqual([0, 3]);
      expect(await ids({ kind: 'actor', actorId: 'carol' }, { actionPrefix: 'tool' })).toEqual([0]);
      expect(await ids({ kind: 'actor', actorId: 'carol' }, { actionPrefix: 'tool.call.search' })).toEqual([
        0,
      ]);
      expect(await ids({ kind: 'submitter', submitter: 'svc-a' }, { actorId: 'dave' })).toEqual([]);
      // Another log's items are never in this log's indexes.
      const other = uniqueId('gsi-other');
      await index.putItems(other, [queryItem(0, `${DAY1}T10:00:00.000Z`, 'carol')]);
      expect(await ids({ kind: 'actor', actorId: 'carol' })).toEqual([0, 2, 3]);
    });

    it('stores copies of the record bytes', async () => {
      const log = uniqueId('copy');
      const q = queryItem(0, `${DAY1}T12:00:00.000Z`);
      await index.putItems(log, [q]);
      q.bytes.fill(0);
      const [back] = (await page(log, { kind: 'time', day: DAY1 })).items;
      expect(new TextDecoder().decode(back?.bytes)).toBe('record 0');
    });
  });
}
