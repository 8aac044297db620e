/**
 * The DynamoDB stream store's own refusals of corrupt items (AWS-only
 * behaviour; its contract runs in test/contracts/aws.test.ts, the memory
 * adapter's in test/contracts/memory.test.ts).
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoStreamStore } from '../../src/adapters/aws/dynamo-stream-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { uniqueId } from '../contracts/support.ts';
import { awsClientConfig } from '../support/aws.ts';

const TABLE = 'anchorlog-streams';
let ready: Promise<DynamoDBClient> | undefined;
function table(): Promise<DynamoDBClient> {
  ready ??= (async () => {
    const client = new DynamoDBClient(awsClientConfig());
    await ensureTable(client, TABLE);
    return client;
  })();
  return ready;
}

describe('DynamoStreamStore: corrupt items are INTEGRITY errors', () => {
  it('a cursor item that is not JSON, or names another stream', async () => {
    const client = await table();
    const store = new DynamoStreamStore({ client, tableName: TABLE });
    const s = uniqueId('corrupt');
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: `SC#${s}` }, sk: { S: 'CURSOR' }, j: { S: '{nope' }, ver: { N: '1' } },
      }),
    );
    await expect(store.readCursor(s)).rejects.toMatchObject({ name: 'StreamStoreError', code: 'INTEGRITY' });
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: `SC#${s}` },
          sk: { S: 'CURSOR' },
          j: { S: JSON.stringify({ v: 1, stream: 'someone-else', nextIndex: 3 }) },
          ver: { N: '1' },
        },
      }),
    );
    await expect(store.readCursor(s)).rejects.toMatchObject({ code: 'INTEGRITY' });
  });
});
