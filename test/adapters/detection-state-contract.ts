/**
 * The DetectionStateStore contract (src/ports/detection-state.ts) as a suite
 * any adapter runs: the in-memory one here, the DynamoDB one (later slice)
 * against moto. Behaviour only: compare-and-swap on the cursor version,
 * all-or-nothing commits, outbox entries kept once per id, reads that see
 * every successful commit.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/core/detect/alert.ts';
import type { DetectionCursor, StateItem } from '../../src/core/detect/state.ts';
import type { DetectionCommit, DetectionStateStore } from '../../src/ports/detection-state.ts';

const seen = (lastMs: number): StateItem => ({
  type: 'seen',
  key: 'k',
  value: 'v',
  lastMs,
  expiresAtMs: lastMs + 1000,
});
const cursor = (version: number, nextIndex: number): DetectionCursor => ({
  logId: 'acme',
  nextIndex,
  watermarkMs: nextIndex * 10,
  version,
});
const occurrence = (id: string, index: number): OutboxEntry => ({
  type: 'occurrence',
  id,
  alertId: 'alr_x',
  logId: 'acme',
  ruleId: 'r',
  index,
  receivedAt: '2026-03-01T00:00:00.000Z',
});
const commit = (
  expectedVersion: number,
  puts: Array<[string, StateItem]>,
  outbox: OutboxEntry[] = [],
): DetectionCommit => ({
  logId: 'acme',
  expectedVersion,
  cursor: cursor(expectedVersion + 1, (expectedVersion + 1) * 5),
  puts: new Map(puts),
  outbox,
});

export function describeDetectionStateStore(
  name: string,
  make: () => Promise<DetectionStateStore & { outbox?(logId: string): OutboxEntry[] }>,
): void {
  describe(`DetectionStateStore contract: ${name}`, () => {
    it('starts empty', async () => {
      const store = await make();
      expect(await store.readCursor('acme')).toBeUndefined();
      expect((await store.readItems('acme', ['a', 'b'])).size).toBe(0);
    });

    it('commits items, outbox and cursor together, by compare-and-swap on the version', async () => {
      const store = await make();
      expect(await store.commit(commit(0, [['a', seen(1)]], [occurrence('o1', 1)]))).toBe(true);
      expect(await store.readCursor('acme')).toEqual(cursor(1, 5));
      expect(await store.readItems('acme', ['a', 'b'])).toEqual(new Map([['a', seen(1)]]));
      // A second evaluator still at version 0 loses, and writes nothing.
      expect(
        await store.commit(
          commit(
            0,
            [
              ['a', seen(99)],
              ['b', seen(99)],
            ],
            [occurrence('o2', 2)],
          ),
        ),
      ).toBe(false);
      expect(await store.readItems('acme', ['a', 'b'])).toEqual(new Map([['a', seen(1)]]));
      expect(await store.readCursor('acme')).toEqual(cursor(1, 5));
      if (store.outbox) expect(store.outbox('acme').map((e) => e.id)).toEqual(['o1']);
      expect(
        await store.commit(
          commit(1, [
            ['a', seen(2)],
            ['b', seen(3)],
          ]),
        ),
      ).toBe(true);
      expect(await store.readItems('acme', ['a', 'b'])).toEqual(
        new Map([
          ['a', seen(2)],
          ['b', seen(3)],
        ]),
      );
    });

    it('keeps an outbox entry once per id (a redo of an alert adds nothing)', async () => {
      const store = await make();
      await store.commit(commit(0, [], [occurrence('o1', 1)]));
      await store.commit(commit(1, [], [occurrence('o1', 1), occurrence('o2', 2)]));
      if (store.outbox) expect(store.outbox('acme').map((e) => e.id)).toEqual(['o1', 'o2']);
    });

    it('keeps logs apart', async () => {
      const store = await make();
      await store.commit(commit(0, [['a', seen(1)]]));
      expect(await store.readCursor('other')).toBeUndefined();
      expect((await store.readItems('other', ['a'])).size).toBe(0);
    });

    it('refuses a cursor that is not the next version', async () => {
      const store = await make();
      await expect(store.commit({ ...commit(0, []), cursor: cursor(5, 1) })).rejects.toBeInstanceOf(Error);
    });

    it('stored values cannot be changed through what was committed or read', async () => {
      const store = await make();
      const item = {
        type: 'dedup',
        key: 'k',
        alertId: 'a',
        untilMs: 5,
        occurrences: 1,
        expiresAtMs: 5,
      } as StateItem;
      await store.commit(commit(0, [['d', item]]));
      const read = (await store.readItems('acme', ['d'])).get('d') as { occurrences: number };
      try {
        read.occurrences = 99;
      } catch {
        // frozen: fine
      }
      try {
        (item as { occurrences: number }).occurrences = 98;
      } catch {
        // frozen: fine
      }
      expect(((await store.readItems('acme', ['d'])).get('d') as { occurrences: number }).occurrences).toBe(
        1,
      );
    });
  });
}
