/**
 * DynamoSealStateStore on the emulator: the state lives under S#<log>, the
 * seal role's own family (issue #11); a state stored where it lived before
 * (L#<log>/SEAL) is read only while S# is empty, marked `legacy`, and adopted
 * only onto an empty S#.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { sealState } from '../contracts/seal-state.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-seal-state-store';
let client: DynamoDBClient;
let store: DynamoSealStateStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoSealStateStore({ client, tableName: TABLE });
});

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'SEAL' } });
async function getItem(pk: string) {
  return (await client.send(new GetItemCommand({ TableName: TABLE, Key: key(pk), ConsistentRead: true })))
    .Item;
}

/** Moves the current item to the legacy location, as a deployment from before issue #11 has it. */
async function makeLegacy(logId: string): Promise<void> {
  const item = await getItem(`S#${logId}`);
  if (!item) throw new Error('no item');
  await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, ...key(`L#${logId}`) } }));
  await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key(`S#${logId}`) }));
}

describe('DynamoSealStateStore', () => {
  it('keeps the state under S#<log> and never writes L#', async () => {
    expect(await store.compareAndSwap(sealState('a', 1, 5), 0)).toBe(true);
    expect(await store.compareAndSwap(sealState('a', 2, 9), 1)).toBe(true);
    expect(await store.compareAndSwap(sealState('a', 2, 9), 1)).toBe(false);
    expect(await store.markPublished('a', 2)).toBe(true);
    await store.halt('a', 'FORK: test', 7);
    expect((await getItem('S#a'))?.size?.N).toBe('9');
    expect(await getItem('L#a')).toBeUndefined();
    expect(await store.read('a')).toMatchObject({ version: 2, size: 9, halted: 'FORK: test' });
  });

  it('reads a legacy state only while S# is empty, marked legacy', async () => {
    await store.compareAndSwap(sealState('b', 1, 5), 0);
    await makeLegacy('b');
    const legacy = await store.read('b');
    expect(legacy).toMatchObject({ version: 1, size: 5, legacy: true });

    // S# wins from the moment it holds anything, whatever L# says.
    await store.compareAndSwap(sealState('b', 1, 6), 0);
    const current = await store.read('b');
    expect(current).toMatchObject({ version: 1, size: 6 });
    expect(current?.legacy).toBeUndefined();
  });

  it('adopts a legacy state onto an empty S# only', async () => {
    await store.compareAndSwap(sealState('c', 1, 4), 0);
    await makeLegacy('c');
    const legacy = await store.read('c');
    if (!legacy) throw new Error('no legacy state');
    expect(await store.adopt(legacy)).toBe(true);
    expect(await store.adopt(legacy)).toBe(false);
    const adopted = await store.read('c');
    expect(adopted).toMatchObject({ version: 1, size: 4 });
    expect(adopted?.legacy).toBeUndefined();
    // After adoption the ordinary CAS continues from the adopted version.
    expect(await store.compareAndSwap(sealState('c', 2, 8), 1)).toBe(true);

    // A halt that lands first is never overwritten by an adoption.
    await store.compareAndSwap(sealState('d', 1, 4), 0);
    await makeLegacy('d');
    const d = await store.read('d');
    await store.halt('d', 'STATE_BEHIND_ARCHIVE: test', 1);
    if (!d) throw new Error('no legacy state');
    expect(await store.adopt(d)).toBe(false);
    expect((await store.read('d'))?.halted).toBe('STATE_BEHIND_ARCHIVE: test');
  });
});
