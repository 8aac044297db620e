/**
 * DynamoAnchorStore and dynamoAnchoredSizes on the emulator: anchors live
 * under A#<log>, the anchor role's own family (issue #11). Items from before
 * (under L#<log>) are read only as a fallback, per size, and marked legacy.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { anchorSummary } from '../contracts/anchor-store.contract.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-anchor-store';
let client: DynamoDBClient;
let store: DynamoAnchorStore;

beforeAll(async () => {
  client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, TABLE);
  store = new DynamoAnchorStore({ client, tableName: TABLE });
});

const sizeSk = (size: number) => `ANCHOR#${String(size).padStart(20, '0')}`;

/** An anchor summary and pointer as a deployment from before issue #11 wrote them. */
async function putLegacy(logId: string, size: number): Promise<void> {
  const s = anchorSummary(logId, size);
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        pk: { S: `L#${logId}` },
        sk: { S: sizeSk(size) },
        size: { N: String(size) },
        checkpoint: { S: s.checkpoint },
        quorum: { N: '1' },
        tsaCount: { N: '1' },
        granted: { N: '1' },
        quorumMet: { BOOL: true },
        updatedAt: { N: '1' },
      },
    }),
  );
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: `L#${logId}` }, sk: { S: 'ANCHORED' }, size: { N: String(size) } },
    }),
  );
}

async function getItem(pk: string, sk: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('DynamoAnchorStore', () => {
  // What every AnchorStore does is test/contracts/anchor-store.contract.ts
  // (run against this adapter by test/contracts/aws.test.ts); here, the key
  // layout and the items from before issue #11.
  it('writes under A#<log> only', async () => {
    await store.putSummary(anchorSummary('a', 5));
    await store.markAnchored('a', 5);
    expect(await getItem('A#a', sizeSk(5))).toBeDefined();
    expect(await getItem('A#a', 'ANCHORED')).toBeDefined();
    expect(await getItem('L#a', sizeSk(5))).toBeUndefined();
    const got = await store.read('a', 5);
    expect(got.summary).toMatchObject({ size: 5, granted: 1 });
    expect(got.summary?.legacy).toBeUndefined();
    expect(await store.newestAnchoredSize('a')).toBe(5);
  });

  it('falls back per size to anchors recorded before issue #11, marked legacy; A# wins', async () => {
    await putLegacy('b', 3);
    expect(await store.newestAnchoredSize('b')).toBe(3);
    expect((await store.read('b', 3)).summary).toMatchObject({ size: 3, legacy: true });
    expect((await store.read('b', 4)).summary).toBeUndefined();

    await store.putSummary({ ...anchorSummary('b', 3), granted: 0, quorumMet: false });
    await store.putSummary(anchorSummary('b', 7));
    await store.markAnchored('b', 7);
    const current = (await store.read('b', 3)).summary;
    expect(current).toMatchObject({ granted: 0 });
    expect(current?.legacy).toBeUndefined();
    expect(await store.newestAnchoredSize('b')).toBe(7);

    // The export's lister sees both generations, once each, in order.
    const list = dynamoAnchoredSizes({ client, tableName: TABLE });
    await putLegacy('b', 1);
    expect(await list('b', 0, 100, 10)).toEqual([1, 3, 7]);
    expect(await list('b', 2, 100, 1)).toEqual([3]);
  });
});
