import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import type { Principal } from '../../src/core/principal.ts';
import { type PrincipalState, PrincipalStoreError } from '../../src/ports/principal-store.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-principals-test';
let client: DynamoDBClient;
let store: DynamoPrincipalStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoPrincipalStore({ client, tableName: TABLE });
});

function state(id: string, version = 1, fill = 1): PrincipalState {
  const principal: Principal = {
    id,
    name: `name of ${id}`,
    kind: 'application',
    owner: 'owner',
    purpose: 'purpose',
    scopes: { 'tenant-a': ['events:write'] },
    status: 'active',
    keyId: 'k_0123456789abcdef',
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
  };
  return { principal, secretHash: new Uint8Array(32).fill(fill) };
}

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
  it('round-trips current and pending state, including the binary hash', async () => {
    expect(await store.get('store-a')).toBeUndefined();
    const audit = { id: 'principal/store-a/v1', action: 'principal.create' };
    const rev1 = await store.put({ id: 'store-a', pending: { state: state('store-a'), audit } }, 0);
    expect(rev1).toBe(1);
    const e1 = await store.get('store-a');
    expect(e1).toEqual({ id: 'store-a', rev: 1, pending: { state: state('store-a'), audit } });
    const rev2 = await store.put({ id: 'store-a', current: state('store-a') }, 1);
    expect(rev2).toBe(2);
    const e2 = await store.get('store-a');
    expect(e2).toEqual({ id: 'store-a', rev: 2, current: state('store-a') });
    expect(e2?.current?.secretHash).toBeInstanceOf(Uint8Array);
  });

  it('round-trips the audit binding of the current state; a legacy item has none', async () => {
    const bound = { ...state('store-bound'), recorded: { seq: 7, index: 41 } };
    await store.put({ id: 'store-bound', current: bound }, 0);
    expect((await store.get('store-bound'))?.current).toEqual(bound);
    await store.put({ id: 'store-legacy', current: state('store-legacy') }, 0);
    expect((await store.get('store-legacy'))?.current?.recorded).toBeUndefined();
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-bound' }, sk: { S: 'P' } } }),
    );
    expect([raw.Item?.curSeq?.N, raw.Item?.curIndex?.N]).toEqual(['7', '41']);
  });

  it('stores items under pk=P#<id>, sk=P', async () => {
    await store.put({ id: 'store-keys', current: state('store-keys') }, 0);
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-keys' }, sk: { S: 'P' } } }),
    );
    expect(raw.Item?.rev?.N).toBe('1');
    expect(raw.Item?.curHash?.B?.length).toBe(32);
  });

  it('create is conditional on absence → CONFLICT', async () => {
    await store.put({ id: 'store-b', current: state('store-b') }, 0);
    await expectStoreError(store.put({ id: 'store-b', current: state('store-b', 1, 9) }, 0), 'CONFLICT');
    expect((await store.get('store-b'))?.current?.secretHash[0]).toBe(1);
  });

  // No test races two concurrent puts here: moto's conditional PutItem is not
  // atomic under concurrent requests (4 of 400 two-writer races both won),
  // unlike DynamoDB. The service tests serialise puts for that reason.
  it('updates are conditional on the revision → stale writer gets CONFLICT and writes nothing', async () => {
    await store.put({ id: 'store-c', current: state('store-c') }, 0);
    await store.put({ id: 'store-c', current: state('store-c', 2, 2) }, 1);
    await expectStoreError(store.put({ id: 'store-c', current: state('store-c', 2, 3) }, 1), 'CONFLICT');
    const e = await store.get('store-c');
    expect(e?.rev).toBe(2);
    expect(e?.current?.secretHash[0]).toBe(2);
  });

  it('lists in id order with a cursor, skipping orphan directory items', async () => {
    const fresh = new DynamoPrincipalStore({ client, tableName: 'anchorlog-principals-list' });
    await ensureTable(client, 'anchorlog-principals-list');
    const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
    for (const id of [...ids].reverse()) await fresh.put({ id, current: state(id) }, 0);
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

  it('rejects bad cursors and limits', async () => {
    await expectStoreError(store.list({ limit: 10, cursor: 'not a cursor!' }), 'INVALID_CURSOR');
    await expectStoreError(store.list({ limit: 10, cursor: 'QUJD' }), 'INVALID_CURSOR'); // "ABC": not a valid id
    // The limit is the caller's contract (the service answers 400 before asking the store).
    await expect(store.list({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.list({ limit: 101 })).rejects.toBeInstanceOf(RangeError);
  });

  it('reports a corrupted item as INTEGRITY', async () => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'P#store-bad' }, sk: { S: 'P' }, rev: { N: '1' }, cur: { S: '{not json' } },
      }),
    );
    await expectStoreError(store.get('store-bad'), 'INTEGRITY');
    await store.put({ id: 'store-half-bound', current: state('store-half-bound') }, 0);
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'P#store-half-bound' }, sk: { S: 'P' } } }),
    );
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...raw.Item, curSeq: { N: '3' } } }));
    await expectStoreError(store.get('store-half-bound'), 'INTEGRITY');
  });
});
