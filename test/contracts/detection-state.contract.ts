/**
 * The DetectionStateStore contract (src/ports/detection-state.ts), run
 * against every implementation by test/contracts/detection-state.test.ts:
 * compare-and-swap on the cursor version, all-or-nothing commits (small ones
 * and ones too large for one DynamoDB transaction), items as absolute values
 * of any size, and the outbox as delivery reads and acknowledges it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertDocument, OutboxEntry } from '../../src/core/detect/alert.ts';
import { type DetectionCursor, NEVER, type StateItem } from '../../src/core/detect/state.ts';
import {
  type CheckpointRef,
  type DetectionCommit,
  type DetectionStateStore,
  OUTBOX_PAGE_MAX,
} from '../../src/ports/detection-state.ts';
import { uniqueId } from './support.ts';

const T = Date.parse('2026-03-01T00:00:00.000Z');

export const cursorAt = (
  logId: string,
  version: number,
  nextIndex: number,
  watermarkMs = T,
): DetectionCursor => ({
  logId,
  nextIndex,
  watermarkMs,
  version,
});

export function alertEntry(logId: string, n: number, pad = 0): OutboxEntry {
  const alert: AlertDocument = {
    v: 1,
    id: `alr_${n.toString(16).padStart(32, '0')}`,
    logId,
    rule: {
      id: 'contract.rule',
      version: 2,
      title: 'Contract rule',
      severity: 'high',
      owner: 'secops',
      runbook: 'https://runbooks.example/contract',
      kind: 'match',
    },
    key: `key-${n}${'k'.repeat(pad)}`,
    firedAt: new Date(T + n).toISOString(),
    trigger: { index: n, receivedAt: new Date(T + n).toISOString() },
    summary: `entry ${n}`,
    value: null,
    threshold: null,
    evidence: { from: new Date(T + n).toISOString(), to: new Date(T + n + 1).toISOString(), indexes: [n] },
    dedup: null,
    suppressed: null,
    destinations: ['secops-pager'],
    labels: { pack: 'contract' },
  };
  return { type: 'alert', id: alert.id, alert };
}

const occurrence = (logId: string, n: number): OutboxEntry => ({
  type: 'occurrence',
  id: `alr_${'0'.repeat(32)}#${n}`,
  alertId: `alr_${'0'.repeat(32)}`,
  logId,
  ruleId: 'contract.rule',
  index: n,
  receivedAt: new Date(T + n).toISOString(),
});

/** One item of each kind, with awkward values: NEVER, negative and fractional numbers, unicode. */
export function sampleItems(tag: string): Map<string, StateItem> {
  return new Map<string, StateItem>([
    [
      `w#r@abc#${tag}`,
      {
        type: 'window',
        group: `agent-é-${tag}`,
        buckets: [
          { b: 100, count: 3, sum: 1.5e9, distinct: ['a', 'b'] },
          { b: 101, count: 1, sum: -0.25, distinct: [] },
        ],
        fired: true,
        recent: [
          [4, T + 4],
          [9, T + 9],
        ],
        expiresAtMs: T + 3_600_000,
      },
    ],
    [
      `s#r@abc#${tag}`,
      { type: 'seen', key: 'agent-1', value: 'tool-\u{1F600}', lastMs: T, expiresAtMs: T + 1 },
    ],
    [
      `r#r@abc${tag}`,
      {
        type: 'rule',
        startedAtMs: T,
        keys: {
          '': { lastMs: T, lastIndex: null, fired: false },
          p1: { lastMs: T + 5, lastIndex: 7, fired: true },
        },
        nextDeadlineMs: NEVER,
        dropped: 0,
        expiresAtMs: NEVER,
      },
    ],
    [
      `d#r#${tag}`,
      {
        type: 'dedup',
        key: '',
        alertId: 'alr_1',
        untilMs: T + 60_000,
        occurrences: 2,
        expiresAtMs: T + 60_000,
      },
    ],
  ]);
}

export const checkpointRef = (logId: string, size: number): CheckpointRef => ({
  size,
  checkpoint: `anchorlog.local/${logId}\n${size}\nAAAA\n\n— anchorlog.local/${logId} sig\n`,
});

function commitOf(
  logId: string,
  from: number,
  nextIndex: number,
  parts: Partial<Omit<DetectionCommit, 'logId' | 'expectedVersion' | 'cursor'>> = {},
): DetectionCommit {
  return {
    logId,
    expectedVersion: from,
    cursor: cursorAt(logId, from + 1, nextIndex, T + nextIndex),
    puts: parts.puts ?? new Map(),
    outbox: parts.outbox ?? [],
    ...(parts.checkpoint ? { checkpoint: parts.checkpoint } : {}),
    ...(parts.resume ? { resume: parts.resume } : {}),
  };
}

const commit0 = (logId: string, puts: Map<string, StateItem>, outbox: OutboxEntry[]) =>
  commitOf(logId, 0, 1, { puts, outbox });

/** Every position of a log's outbox, all pages. */
async function allPending(store: DetectionStateStore, logId: string) {
  const out = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.readOutbox(logId, { limit: 7, ...(after ? { after } : {}) });
    out.push(...page.records);
    if (page.next === undefined) return out;
    after = page.next;
  }
}

export function detectionStateContract(name: string, make: () => Promise<DetectionStateStore>): void {
  describe(`DetectionStateStore contract: ${name}`, () => {
    let store: DetectionStateStore;
    beforeAll(async () => {
      store = await make();
    });

    it('a log never committed has no cursor, no items and an empty outbox', async () => {
      const log = uniqueId('none');
      expect(await store.readCursor(log)).toBeUndefined();
      expect((await store.readItems(log, ['w#x', 'r#y'])).size).toBe(0);
      expect(await store.readOutbox(log)).toEqual({ records: [] });
    });

    it('a commit writes cursor, items and outbox together; reads give back exactly what was written', async () => {
      const log = uniqueId('commit');
      const items = sampleItems('a');
      const outbox = [alertEntry(log, 1), occurrence(log, 2)];
      const cp = checkpointRef(log, 40);
      expect(
        await store.commit(
          commitOf(log, 0, 10, { puts: items, outbox, checkpoint: cp, resume: { seq: 3, firstIndex: 8 } }),
        ),
      ).toBe(true);
      expect(await store.readCursor(log)).toEqual({
        ...cursorAt(log, 1, 10, T + 10),
        resume: { seq: 3, firstIndex: 8 },
      });
      const got = await store.readItems(log, [...items.keys(), 'w#absent']);
      expect(got).toEqual(items);
      const page = await store.readOutbox(log);
      expect(page.next).toBeUndefined();
      expect(page.records.map((r) => r.entry)).toEqual(outbox);
      for (const r of page.records) {
        expect(r.logId).toBe(log);
        expect(r.checkpoint).toEqual(cp);
      }
    });

    it('a cursor at watermark -1 and an empty commit round-trip (a log pinned before its first record)', async () => {
      const log = uniqueId('pin');
      const c: DetectionCommit = {
        logId: log,
        expectedVersion: 0,
        cursor: cursorAt(log, 1, 0, -1),
        puts: new Map(),
        outbox: [],
      };
      expect(await store.commit(c)).toBe(true);
      expect(await store.readCursor(log)).toEqual(cursorAt(log, 1, 0, -1));
      expect((await store.readOutbox(log)).records).toEqual([]);
    });

    it('compare-and-swap: only onto the version named, one step at a time; a lost one writes nothing', async () => {
      const log = uniqueId('cas');
      expect(await store.commit(commitOf(log, 0, 5))).toBe(true);
      const lost = commitOf(log, 0, 9, { puts: sampleItems('lost'), outbox: [alertEntry(log, 99)] });
      expect(await store.commit(lost)).toBe(false);
      expect(await store.commit(commitOf(log, 3, 9))).toBe(false);
      expect(await store.readCursor(log)).toMatchObject({ version: 1, nextIndex: 5 });
      expect((await store.readItems(log, [...sampleItems('lost').keys()])).size).toBe(0);
      expect((await store.readOutbox(log)).records).toEqual([]);
      await expect(
        store.commit({ ...commitOf(log, 1, 6), cursor: cursorAt(log, 3, 6) }),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await store.commit(commitOf(log, 1, 6))).toBe(true);
      expect(await store.readCursor(log)).toMatchObject({ version: 2, nextIndex: 6 });
    });

    it('two commits racing from one version: exactly one wins, and only its writes are visible', async () => {
      const log = uniqueId('race');
      await store.commit(commitOf(log, 0, 1));
      const a = commitOf(log, 1, 2, {
        puts: new Map([['w#same', sampleItems('x').values().next().value as StateItem]]),
        outbox: [alertEntry(log, 1)],
      });
      const b = commitOf(log, 1, 3, { outbox: [alertEntry(log, 2), alertEntry(log, 3)] });
      const [ra, rb] = await Promise.all([store.commit(a), store.commit(b)]);
      expect([ra, rb].filter(Boolean)).toHaveLength(1);
      const winner = ra ? a : b;
      expect(await store.readCursor(log)).toMatchObject({ version: 2, nextIndex: winner.cursor.nextIndex });
      expect((await store.readOutbox(log)).records.map((r) => r.entry.id)).toEqual(
        winner.outbox.map((e) => e.id),
      );
      expect((await store.readItems(log, ['w#same'])).size).toBe(ra ? 1 : 0);
    });

    it('puts replace whole items; keys not put are left alone', async () => {
      const log = uniqueId('replace');
      const items = sampleItems('r');
      await store.commit(commitOf(log, 0, 1, { puts: items }));
      const [k, v] = [...items][0] as [string, StateItem];
      const changed = { ...(v as Extract<StateItem, { type: 'window' }>), buckets: [], fired: false };
      await store.commit(commitOf(log, 1, 2, { puts: new Map([[k, changed]]) }));
      const got = await store.readItems(log, [...items.keys()]);
      expect(got.get(k)).toEqual(changed);
      expect(got.size).toBe(items.size);
    });

    it('stored values cannot be changed through what was committed or read (copied or frozen)', async () => {
      const log = uniqueId('copies');
      const items = sampleItems('c');
      const outbox = [alertEntry(log, 1)];
      await store.commit(commit0(log, items, outbox));
      type Buckets = { buckets: { count: number }[] };
      const bucketsOf = (v: StateItem | undefined) => (v as unknown as Buckets).buckets;
      const attempt = (f: () => void) => {
        try {
          f();
        } catch {
          // frozen: fine
        }
      };
      attempt(() => {
        (bucketsOf(items.get('w#r@abc#c'))[0] as { count: number }).count = 999;
      });
      attempt(() => {
        (outbox[0] as { id: string }).id = 'changed';
      });
      const read = await store.readItems(log, ['w#r@abc#c']);
      attempt(() => {
        (bucketsOf(read.get('w#r@abc#c'))[0] as { count: number }).count = 7;
      });
      const page = await store.readOutbox(log);
      attempt(() => {
        (page.records[0]?.entry as { id: string }).id = 'changed';
      });
      const again = await store.readItems(log, ['w#r@abc#c']);
      expect(bucketsOf(again.get('w#r@abc#c'))[0]?.count).toBe(3);
      expect((await store.readOutbox(log)).records[0]?.entry.id).toBe(alertEntry(log, 1).id);
    });

    it('logs are independent', async () => {
      const a = uniqueId('ind-a');
      const b = uniqueId('ind-b');
      await store.commit(commitOf(a, 0, 4, { puts: sampleItems('i'), outbox: [alertEntry(a, 1)] }));
      expect(await store.readCursor(b)).toBeUndefined();
      expect((await store.readItems(b, [...sampleItems('i').keys()])).size).toBe(0);
      expect((await store.readOutbox(b)).records).toEqual([]);
    });

    it('the outbox is in commit order then emission order, paged, and acknowledged entries leave it', async () => {
      const log = uniqueId('outbox');
      await store.commit(commitOf(log, 0, 1, { outbox: [alertEntry(log, 5), alertEntry(log, 3)] }));
      await store.commit(commitOf(log, 1, 2));
      await store.commit(
        commitOf(log, 2, 3, {
          outbox: Array.from({ length: 12 }, (_, i) => alertEntry(log, 100 + i)),
          checkpoint: checkpointRef(log, 3),
        }),
      );
      const all = await allPending(store, log);
      expect(all.map((r) => r.entry.id)).toEqual([
        alertEntry(log, 5).id,
        alertEntry(log, 3).id,
        ...Array.from({ length: 12 }, (_, i) => alertEntry(log, 100 + i).id),
      ]);
      const positions = all.map((r) => r.position);
      expect([...positions].sort()).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
      expect(all[0]?.checkpoint).toBeNull();
      expect(all[2]?.checkpoint).toEqual(checkpointRef(log, 3));

      const first = await store.readOutbox(log, { limit: 2 });
      expect(first.records).toHaveLength(2);
      expect(first.next).toBe(positions[1]);
      const rest = await store.readOutbox(log, { after: first.next as string, limit: OUTBOX_PAGE_MAX + 10 });
      expect(rest.records.map((r) => r.position)).toEqual(positions.slice(2));
      expect(rest.next).toBeUndefined();

      await store.ackOutbox(log, [positions[0] as string, positions[5] as string, 'no-such-position']);
      await store.ackOutbox(log, [positions[0] as string]);
      const left = await allPending(store, log);
      expect(left.map((r) => r.position)).toEqual(positions.filter((_, i) => i !== 0 && i !== 5));
      await store.ackOutbox(log, []);
      await store.ackOutbox(
        log,
        left.map((r) => r.position),
      );
      expect((await store.readOutbox(log)).records).toEqual([]);
    });

    it('a commit larger than one transaction (items, outbox, bytes) is all or nothing as well', async () => {
      const log = uniqueId('large');
      const puts = new Map<string, StateItem>();
      for (let i = 0; i < 150; i++)
        puts.set(`s#big@fp#${String(i).padStart(4, '0')}`, {
          type: 'seen',
          key: `k${i}`,
          value: 'v'.repeat(20_000),
          lastMs: T + i,
          expiresAtMs: T + 86_400_000,
        });
      const outbox = Array.from({ length: 130 }, (_, i) => alertEntry(log, i, 2000));
      expect(
        await store.commit(commitOf(log, 0, 500, { puts, outbox, checkpoint: checkpointRef(log, 500) })),
      ).toBe(true);
      expect(await store.readCursor(log)).toMatchObject({ version: 1, nextIndex: 500 });
      expect(await store.readItems(log, [...puts.keys()])).toEqual(puts);
      const all = await allPending(store, log);
      expect(all.map((r) => r.entry)).toEqual(outbox);
      // …and a lost one of that size writes nothing.
      const lost = new Map([...puts].map(([k, v]) => [k, { ...v, lastMs: 1 } as StateItem]));
      expect(await store.commit(commitOf(log, 0, 900, { puts: lost, outbox }))).toBe(false);
      expect(await store.readItems(log, [...puts.keys()])).toEqual(puts);
      expect(await allPending(store, log)).toHaveLength(130);
    });

    it('an item far larger than a DynamoDB item round-trips, and can shrink again', async () => {
      const log = uniqueId('huge');
      const keys: Record<string, { lastMs: number; lastIndex: number | null; fired: boolean }> = {};
      // 1,000 absence keys of 1,024 pseudo-random characters: a megabyte of JSON that does not compress away.
      let x = 12345;
      const noise = () => {
        let s = '';
        while (s.length < 1024) {
          x = (x * 1103515245 + 12345) % 2147483648;
          s += x.toString(36);
        }
        return s.slice(0, 1024);
      };
      for (let i = 0; i < 1000; i++)
        keys[`${i}:${noise()}`] = {
          lastMs: T + i,
          lastIndex: i,
          fired: i % 3 === 0,
        };
      const big: StateItem = {
        type: 'rule',
        startedAtMs: T,
        keys,
        nextDeadlineMs: T + 5,
        dropped: 4,
        expiresAtMs: NEVER,
      };
      await store.commit(commitOf(log, 0, 1, { puts: new Map([['r#huge@fp', big]]) }));
      expect((await store.readItems(log, ['r#huge@fp'])).get('r#huge@fp')).toEqual(big);
      const small: StateItem = { ...big, keys: {} };
      await store.commit(commitOf(log, 1, 2, { puts: new Map([['r#huge@fp', small]]) }));
      expect((await store.readItems(log, ['r#huge@fp'])).get('r#huge@fp')).toEqual(small);
    });

    it('reads many keys at once (more than one batch request)', async () => {
      const log = uniqueId('many');
      const puts = new Map<string, StateItem>();
      for (let i = 0; i < 90; i++)
        puts.set(`d#m#${i}`, {
          type: 'dedup',
          key: `${i}`,
          alertId: `a${i}`,
          untilMs: T,
          occurrences: 1,
          expiresAtMs: T,
        });
      await store.commit(commitOf(log, 0, 1, { puts }));
      const keys = [...puts.keys(), ...Array.from({ length: 150 }, (_, i) => `d#absent#${i}`)];
      expect(await store.readItems(log, keys)).toEqual(puts);
    });
  });
}
