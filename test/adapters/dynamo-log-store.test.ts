import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyDynamoError } from '../../src/adapters/aws/dynamo-items.ts';
import {
  DynamoLogStore,
  decodeBlob,
  encodeBlob,
  INLINE_MAX,
} from '../../src/adapters/aws/dynamo-log-store.ts';
import { FaultInjector } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import { ZERO_HASH } from '../../src/core/record.ts';
import { LogStoreError } from '../../src/ports/log-store.ts';
import { batchAt } from '../contracts/log-store.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-log-store';
let client: DynamoDBClient;
let store: DynamoLogStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoLogStore({ client, tableName: TABLE, sleep: async () => {} });
});

async function getItem(pk: string, sk: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('DynamoLogStore', () => {
  // What every LogStore does is test/contracts/log-store.contract.ts (run
  // against this adapter by test/contracts/aws.test.ts); here, only what is
  // DynamoDB's own: the key layout, items from before issue #11, part items,
  // and SDK faults.
  it('keeps log metadata in its own family and the registry under LOGS', async () => {
    expect(await store.createLog('b-log', '2026-03-01T12:00:00.000Z')).toEqual({ created: true });
    await store.createLog('a-log', '2026-03-01T12:00:00.000Z');
    // META lives in its own family (M#), not in the log's data partition the
    // ingest role writes (issue #11).
    expect((await getItem('M#b-log', 'META'))?.createdAt?.S).toBe('2026-03-01T12:00:00.000Z');
    expect(await getItem('L#b-log', 'META')).toBeUndefined();
    expect(await getItem('LOGS', 'b-log')).toBeDefined();
  });

  it('a log created before issue #11 (META under L#) exists; creating it again keeps its createdAt', async () => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'L#old-log' },
          sk: { S: 'META' },
          logId: { S: 'old-log' },
          createdAt: { S: '2025-01-01T00:00:00.000Z' },
        },
      }),
    );
    expect(await store.logExists('old-log')).toBe(true);
    expect(await store.createLog('old-log', '2026-03-01T12:00:00.000Z')).toEqual({ created: false });
    expect((await getItem('M#old-log', 'META'))?.createdAt?.S).toBe('2025-01-01T00:00:00.000Z');
    expect(await store.listLogs()).toContain('old-log');
  });

  it('takes the tip from the batch the head hint names, never its hash, index or time (issue #11)', async () => {
    let tip = await store.readTip('hinted');
    const b1 = batchAt(tip, [utf8('h0'), utf8('h1')]);
    await store.commitBatch(b1);
    tip = await store.readTip('hinted');
    await store.advanceHead(tip);
    const truth = { seq: 1, nextIndex: 2, lastReceivedAt: '2026-03-01T12:00:00.000Z' };
    const forge = async (fields: Record<string, { S: string } | { N: string } | { B: Uint8Array }>) => {
      const item = await getItem('L#hinted', 'HEAD');
      await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, ...fields } }));
    };
    // A HEAD rewritten by whoever can write it (an insider, a restore): wrong hash, index and
    // time under the right seq. The tip is batch 1's own.
    await forge({
      lastLeafHash: { B: new Uint8Array(32).fill(0xee) },
      nextIndex: { N: '7' },
      lastReceivedAt: { S: '2026-06-01T00:00:00.000Z' },
    });
    let got = await store.readTip('hinted');
    expect(got).toMatchObject(truth);
    expect(bytesEqual(got.lastLeafHash, b1.lastLeafHash)).toBe(true);
    // A seq past the end of the log: the end is found (by halving), not believed.
    await forge({ seq: { N: '1000000' } });
    got = await store.readTip('hinted');
    expect(got).toMatchObject(truth);
    expect(bytesEqual(got.lastLeafHash, b1.lastLeafHash)).toBe(true);
    // Also when a caller's cached tip is far behind and the store jumps ahead through the hint.
    let last = b1;
    for (let i = 2; i <= 6; i++) {
      last = batchAt(got, [utf8(`h${i}`)]);
      await store.commitBatch(last);
      got = await store.readTip('hinted', got);
    }
    await store.advanceHead(got);
    await forge({ lastLeafHash: { B: new Uint8Array(32).fill(0xee) }, nextIndex: { N: '70' } });
    const empty = {
      logId: 'hinted',
      seq: 0,
      nextIndex: 0,
      lastLeafHash: ZERO_HASH,
      lastReceivedAt: undefined,
    };
    got = await store.readTip('hinted', empty);
    expect(got).toMatchObject({ seq: 6, nextIndex: 7 });
    expect(bytesEqual(got.lastLeafHash, last.lastLeafHash)).toBe(true);
  });

  it('stores incompressible batches through part items and verifies their hashes', async () => {
    const tip = await store.readTip('parts');
    const records = Array.from({ length: 20 }, () => crypto.getRandomValues(new Uint8Array(60_000)));
    const b = batchAt(tip, records);
    expect((await store.commitBatch(b)).committed).toBe(true);
    const back = await store.readBatch('parts', 1);
    // bytesEqual, not toEqual: deep-equality on 1.2 MB of bytes takes vitest ~25 s.
    expect(back?.records.length).toBe(records.length);
    expect(back?.records.every((r, i) => bytesEqual(r.bytes, records[i] ?? new Uint8Array()))).toBe(true);
    // Tamper with part 0: the reader notices instead of returning wrong bytes.
    const pk = `L#parts#BP#${b.attemptId}#1#0`;
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: pk }, sk: { S: 'P' }, data: { B: utf8('evil') } },
      }),
    );
    await expect(store.readBatch('parts', 1)).rejects.toMatchObject({ code: 'INTEGRITY' });
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: 'P' } } }));
    await expect(store.readBatch('parts', 1)).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('faults on the store surface as THROTTLED / UNAVAILABLE', async () => {
    const faulty = new FaultInjector([
      { op: 'GetItem', fault: 'throttle' },
      { op: 'GetItem', fault: 'server-error' },
      { op: 'GetItem', fault: 'timeout-before' },
    ]).attach(new DynamoDBClient(awsClientConfig()));
    const s = new DynamoLogStore({ client: faulty, tableName: TABLE });
    await expect(s.logExists('a-log')).rejects.toMatchObject({ code: 'THROTTLED' });
    await expect(s.logExists('a-log')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(s.logExists('a-log')).rejects.toBeInstanceOf(LogStoreError);
    expect(await s.logExists('a-log')).toBe(true);
    expect(classifyDynamoError(new Error('boom'))).toBeUndefined();
    expect(classifyDynamoError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))?.code).toBe(
      'UNAVAILABLE',
    );
  });
});

describe('record blob', () => {
  it('round-trips any records, compressed or not (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), (records) => {
        const { enc, blob } = encodeBlob(records);
        expect(decodeBlob(enc, blob)).toEqual(records);
      }),
      { numRuns: 200 },
    );
  });

  it('compresses JSON-like records and keeps random ones raw', () => {
    const json = Array.from({ length: 100 }, (_, i) => utf8(`{"event":{"action":"tool.call","n":${i}}}`));
    expect(encodeBlob(json).enc).toBe('deflate-raw');
    expect(encodeBlob([crypto.getRandomValues(new Uint8Array(INLINE_MAX / 10))]).enc).toBe('raw');
  });

  it('rejects a truncated blob as INTEGRITY', () => {
    const { enc, blob } = encodeBlob([utf8('hello'), utf8('world')]);
    expect(() => decodeBlob('raw', blob.subarray(0, 7))).toThrow(LogStoreError);
    expect(enc).toBe('raw');
  });
});
