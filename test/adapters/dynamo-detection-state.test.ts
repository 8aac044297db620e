/**
 * DynamoDetectionStateStore on the emulator, beyond the port contract
 * (test/contracts/detection-state.contract.ts): the item layout under
 * D#<logId> and its TTL, which commits take the transaction and which the
 * redo path, a crash after the redo decision completed by whichever reader
 * comes next, answers lost after a write landed, store pushback, and items
 * that do not read back (INTEGRITY).
 */
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDetectionStateStore, REDO_TTL_MS } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { FaultInjector, type FaultRule } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import type { StateItem } from '../../src/core/detect/state.ts';
import type { DetectionCommit } from '../../src/ports/detection-state.ts';
import { DetectionStateError } from '../../src/ports/detection-state.ts';
import { alertEntry, checkpointRef, cursorAt, sampleItems } from '../contracts/detection-state.contract.ts';
import { uniqueId } from '../contracts/support.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-detection-state';
const T = Date.parse('2026-03-01T00:00:00.000Z');
const NOW = Date.parse('2026-03-02T00:00:00.000Z');
let client: DynamoDBClient;
let store: DynamoDetectionStateStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = storeWith(client);
});

function storeWith(c: DynamoDBClient): DynamoDetectionStateStore {
  return new DynamoDetectionStateStore({ client: c, tableName: TABLE, clock: { now: () => NOW } });
}

/** A store whose client faults as `rules` say (a fresh client: the injector is its own). */
function faulty(...rules: FaultRule[]): { store: DynamoDetectionStateStore; faults: FaultInjector } {
  const faults = new FaultInjector(rules);
  return { store: storeWith(faults.attach(new DynamoDBClient(awsClientConfig()))), faults };
}

async function partition(logId: string) {
  const out = await client.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': { S: `D#${logId}` } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}
const sks = async (logId: string) => (await partition(logId)).map((i) => i.sk?.S ?? '');

function small(logId: string, from: number, nextIndex: number): DetectionCommit {
  return {
    logId,
    expectedVersion: from,
    cursor: cursorAt(logId, from + 1, nextIndex),
    puts: sampleItems('s'),
    outbox: [alertEntry(logId, nextIndex)],
    checkpoint: checkpointRef(logId, nextIndex),
    resume: { seq: 2, firstIndex: nextIndex },
  };
}

/** More than 100 writes: the redo path. */
function large(logId: string, from: number, nextIndex: number): DetectionCommit {
  const puts = new Map<string, StateItem>();
  for (let i = 0; i < 120; i++)
    puts.set(`s#big@fp#${i}`, { type: 'seen', key: 'k', value: `v${i}`, lastMs: T, expiresAtMs: T + i });
  return {
    logId,
    expectedVersion: from,
    cursor: cursorAt(logId, from + 1, nextIndex),
    puts,
    outbox: Array.from({ length: 5 }, (_, i) => alertEntry(logId, nextIndex * 10 + i)),
    checkpoint: checkpointRef(logId, nextIndex),
  };
}

async function expectComplete(s: DynamoDetectionStateStore, c: DetectionCommit): Promise<void> {
  expect(await s.readCursor(c.logId)).toMatchObject({
    version: c.cursor.version,
    nextIndex: c.cursor.nextIndex,
  });
  expect(await s.readItems(c.logId, [...c.puts.keys()])).toEqual(new Map(c.puts));
  expect((await s.readOutbox(c.logId, { limit: 1000 })).records.map((r) => r.entry)).toEqual(c.outbox);
}

describe('DynamoDetectionStateStore: layout', () => {
  it('keeps a log in D#<logId>: CURSOR, I#<key> items, O#<position> outbox entries', async () => {
    const log = uniqueId('layout');
    await store.commit(small(log, 0, 7));
    expect((await sks(log)).sort()).toEqual(
      ['CURSOR', ...[...sampleItems('s').keys()].map((k) => `I#${k}`), 'O#0000000000000001.000000'].sort(),
    );
    const cursor = (await partition(log)).find((i) => i.sk?.S === 'CURSOR');
    expect(cursor).toMatchObject({
      ver: { N: '1' },
      nextIndex: { N: '7' },
      seq: { N: '2' },
      firstIndex: { N: '7' },
    });
  });

  it('sets TTL a week after an item expires in log time; items that never expire carry none', async () => {
    const log = uniqueId('ttl');
    await store.commit(small(log, 0, 1));
    const items = await partition(log);
    for (const [key, value] of sampleItems('s')) {
      const item = items.find((i) => i.sk?.S === `I#${key}`);
      if (value.expiresAtMs === Number.MAX_SAFE_INTEGER) expect(item?.ttl).toBeUndefined();
      else expect(item?.ttl?.N).toBe(String(Math.floor((value.expiresAtMs + 7 * 86_400_000) / 1000)));
    }
  });

  it('a commit that fits one transaction leaves no redo parts; a larger one leaves them, with a TTL', async () => {
    const log = uniqueId('paths');
    await store.commit(small(log, 0, 1));
    expect((await sks(log)).filter((s) => s.startsWith('R#'))).toEqual([]);
    await store.commit(large(log, 1, 2));
    const redo = (await partition(log)).filter((i) => i.sk?.S?.startsWith('R#'));
    expect(redo.map((i) => i.sk?.S)).toEqual(['R#0000000000000002#0000']);
    expect(redo[0]?.ttl?.N).toBe(String(Math.floor((NOW + REDO_TTL_MS) / 1000)));
    const cursor = (await partition(log)).find((i) => i.sk?.S === 'CURSOR');
    expect(cursor?.redo).toBeUndefined();
    expect(cursor?.seq).toBeUndefined();
  });
});

describe('DynamoDetectionStateStore: crashes and lost answers', () => {
  // The redo path's writes, in order: parts (BatchWriteItem), decision (UpdateItem), items and
  // outbox (BatchWriteItem), cursor (UpdateItem).
  const afterDecision: FaultRule = { op: 'BatchWriteItem', fault: 'server-error', after: 1 };

  it.each([
    ['readCursor', (s: DynamoDetectionStateStore, log: string) => s.readCursor(log)],
    ['readItems', (s: DynamoDetectionStateStore, log: string) => s.readItems(log, ['x'])],
    ['readOutbox', (s: DynamoDetectionStateStore, log: string) => s.readOutbox(log)],
  ] as const)('a crash after the redo decision is completed by the next %s', async (_name, read) => {
    const log = uniqueId('crash');
    await store.commit(small(log, 0, 1));
    const c = large(log, 1, 2);
    const f = faulty(afterDecision);
    const err = await f.store.commit(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetectionStateError);
    expect((err as DetectionStateError).code).toBe('UNAVAILABLE');
    // Decided, not applied: the cursor names the pending commit.
    const raw = (await partition(log)).find((i) => i.sk?.S === 'CURSOR');
    expect(raw?.ver?.N).toBe('1');
    expect(raw?.redo?.M?.to?.N).toBe('2');
    await read(store, log);
    expect((await partition(log)).find((i) => i.sk?.S === 'CURSOR')?.redo).toBeUndefined();
    await expectComplete(store, {
      ...c,
      outbox: [...small(log, 0, 1).outbox, ...c.outbox],
      puts: c.puts,
    });
    // A commit from the old version now loses; from the new one, it wins.
    expect(await store.commit(small(log, 1, 9))).toBe(false);
    expect(await store.commit(small(log, 2, 9))).toBe(true);
  });

  it('a crash before the redo decision leaves nothing visible; the same commit redone wins', async () => {
    const log = uniqueId('before');
    await store.commit(small(log, 0, 1));
    const c = large(log, 1, 2);
    const f = faulty({ op: 'UpdateItem', fault: 'server-error' });
    await expect(f.store.commit(c)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await store.readCursor(log)).toMatchObject({ version: 1, nextIndex: 1 });
    expect((await store.readItems(log, [...c.puts.keys()])).size).toBe(0);
    expect(await store.commit(c)).toBe(true);
    await expectComplete(store, { ...c, outbox: [...small(log, 0, 1).outbox, ...c.outbox] });
  });

  it.each([
    ['the transaction', 'TransactWriteItems', small],
    ['the redo decision', 'UpdateItem', large],
    ['the redo cursor move', 'UpdateItem', large],
  ] as const)(
    '%s landed but its answer was lost: the same commit again resolves true',
    async (name, op, make) => {
      const log = uniqueId('lost');
      await store.commit(small(log, 0, 1));
      const c = make(log, 1, 5);
      const rule: FaultRule = { op, fault: 'timeout-after', after: name === 'the redo cursor move' ? 1 : 0 };
      const f = faulty(rule);
      await expect(f.store.commit(c)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(f.faults.fired).toHaveLength(1);
      expect(await store.commit(c)).toBe(true);
      await expectComplete(store, { ...c, outbox: [...small(log, 0, 1).outbox, ...c.outbox] });
      // A different commit from the same version is still refused.
      expect(await store.commit(make(log, 1, 6))).toBe(false);
    },
  );

  it.each([
    ['throttle', 'THROTTLED'],
    ['transaction-conflict', 'THROTTLED'],
    ['server-error', 'UNAVAILABLE'],
  ] as const)('a transaction refused with %s is %s and writes nothing', async (fault, code) => {
    const log = uniqueId('push');
    const f = faulty({ op: 'TransactWriteItems', fault });
    await expect(f.store.commit(small(log, 0, 3))).rejects.toMatchObject({ code });
    expect(await store.readCursor(log)).toBeUndefined();
    expect(await sks(log)).toEqual([]);
  });

  it('reads throttled by DynamoDB are THROTTLED', async () => {
    const f = faulty({ op: 'GetItem', fault: 'throttling' }, { op: 'BatchGetItem', fault: 'throttle' });
    await expect(f.store.readCursor('x')).rejects.toMatchObject({ code: 'THROTTLED' });
    await expect(f.store.readItems('x', ['k'])).rejects.toMatchObject({ code: 'THROTTLED' });
  });
});

describe('DynamoDetectionStateStore: items that do not read back are INTEGRITY', () => {
  const put = (
    logId: string,
    sk: string,
    attrs: Record<string, { S?: string; N?: string; B?: Uint8Array }>,
  ) =>
    client.send(
      new PutItemCommand({
        TableName: TABLE,
        // biome-ignore lint/suspicious/noExplicitAny: planting raw attribute values
        Item: { pk: { S: `D#${logId}` }, sk: { S: sk }, ...(attrs as any) },
      }),
    );

  async function integrity(p: Promise<unknown>): Promise<void> {
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DetectionStateError);
    expect((err as DetectionStateError).code).toBe('INTEGRITY');
  }

  it('a cursor without a version, or with a watermark before -1', async () => {
    const a = uniqueId('bad');
    await put(a, 'CURSOR', { nextIndex: { N: '1' } });
    await integrity(store.readCursor(a));
    const b = uniqueId('bad');
    await put(b, 'CURSOR', { ver: { N: '1' }, nextIndex: { N: '1' }, watermarkMs: { N: '-5' } });
    await integrity(store.readCursor(b));
  });

  it('an item that is not JSON, not a state item, or missing a part', async () => {
    const log = uniqueId('bad');
    await store.commit(small(log, 0, 1));
    await put(log, 'I#w#1', { j: { S: '{' } });
    await integrity(store.readItems(log, ['w#1']));
    await put(log, 'I#w#2', { j: { S: '{"type":"other","expiresAtMs":1}' } });
    await integrity(store.readItems(log, ['w#2']));
    await put(log, 'I#w#3', { z: { B: new Uint8Array([1, 2]) }, n: { N: '2' } });
    await integrity(store.readItems(log, ['w#3']));
  });

  it('a pending redo whose parts are missing or are not the commit the cursor names', async () => {
    const log = uniqueId('bad');
    await store.commit(small(log, 0, 1));
    const f = faulty({ op: 'BatchWriteItem', fault: 'server-error', after: 1 });
    await expect(f.store.commit(large(log, 1, 2))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Someone replaces the part with another commit's bytes.
    const other = uniqueId('other');
    await store.commit(small(other, 0, 1));
    const g = faulty({ op: 'BatchWriteItem', fault: 'server-error', after: 1 });
    await expect(g.store.commit(large(other, 1, 3))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const part = (await partition(other)).find((i) => i.sk?.S?.startsWith('R#'));
    await put(log, 'R#0000000000000002#0000', { z: part?.z as { B: Uint8Array } });
    await integrity(store.readCursor(log));
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: `D#${log}` }, sk: { S: 'CURSOR' } },
        UpdateExpression: 'SET redo.parts = :n',
        ExpressionAttributeValues: { ':n': { N: '3' } },
      }),
    );
    await integrity(store.readItems(log, ['x']));
  });
});
