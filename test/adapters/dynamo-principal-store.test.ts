import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { PrincipalStoreError } from '../../src/ports/principal-store.ts';
import { principalState } from '../contracts/principal-store.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-principals-test';
let client: DynamoDBClient;
let store: DynamoPrincipalStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoPrincipalStore({ client, tableName: TABLE });
});

/** The store's own error class (the app layer maps it: src/app/port-errors.ts). */
async function expectStoreError(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PrincipalStoreError);
  expect((err as PrincipalStoreError).code).toBe(code);
}

describe('DynamoPrincipalStore', () => {
  // What every PrincipalStore does is test/contracts/principal-store.contract.ts
  // (run against this adapter by test/contracts/aws.test.ts); here, the item
  // layout, orphan directory items and what a corrupted item reads as.
  it('round-trips the audit binding of the current state; a legacy item has none', async () => {
    const bound = { ...principalState('store-bound'), recorded: { seq: 7, index: 41 } };
    await store.put({ id: 'store-bound', current: bound }, 0);
    expect((await store.get('store-bound'))?.current).toEqual(bound);
    await store.put({ id: 'store-legacy', current: principalState('store-legacy') }, 0);
    expect((await store.get('store-legacy'))?.current?.recorded).toBeUndefined();
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-bound' }, sk: { S: 'P' } } }),
    );
    expect([raw.Item?.curSeq?.N, raw.Item?.curIndex?.N]).toEqual(['7', '41']);
  });

  it('stores items under pk=P#<id>, sk=P', async () => {
    await store.put({ id: 'store-keys', current: principalState('store-keys') }, 0);
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-keys' }, sk: { S: 'P' } } }),
    );
    expect(raw.Item?.rev?.N).toBe('1');
    expect(raw.Item?.curHash?.B?.length).toBe(32);
  });

  it('lists in id order with a cursor, skipping orphan directory items', async () => {
    const fresh = new DynamoPrincipalStore({ client, tableName: 'anchorlog-principals-list' });
    await ensureTable(client, 'anchorlog-principals-list');
    const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
    for (const id of [...ids].reverse()) await fresh.put({ id, current: principalState(id) }, 0);
    // A crash between the directory write and the entry write leaves an orphan directory item.
    await client.send(
      new PutItemCommand({
        TableName: 'anchorlog-principals-list',
        Item: { pk: { S: 'PRINCIPALS' }, sk: { S: 'list-3a' } },
      }),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await fresh.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(ids);
  });

  it('reports a corrupted item as INTEGRITY', async () => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'P#store-bad' }, sk: { S: 'P' }, rev: { N: '1' }, cur: { S: '{not json' } },
      }),
    );
    await expectStoreError(store.get('store-bad'), 'INTEGRITY');
    await store.put({ id: 'store-half-bound', current: principalState('store-half-bound') }, 0);
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-half-bound' }, sk: { S: 'P' } } }),
    );
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...raw.Item, curSeq: { N: '3' } } }));
    await expectStoreError(store.get('store-half-bound'), 'INTEGRITY');
  });
});
