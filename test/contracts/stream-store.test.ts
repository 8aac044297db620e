/**
 * The StreamStore contract against the in-memory adapter and the DynamoDB
 * adapter on the emulator (moto), plus the DynamoDB adapter's own refusals of
 * corrupt items. A file of its own so the streams' tests need not run every
 * port's suite (test/contracts/aws.test.ts).
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoStreamStore } from '../../src/adapters/aws/dynamo-stream-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { MemoryStreamStore } from '../../src/adapters/memory/stream-store.ts';
import { awsClientConfig } from '../support/aws.ts';
import { streamStoreContract } from './stream-store.contract.ts';
import { uniqueId } from './support.ts';

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

streamStoreContract('MemoryStreamStore', async () => new MemoryStreamStore());
streamStoreContract(
  'DynamoStreamStore',
  async () => new DynamoStreamStore({ client: await table(), tableName: TABLE }),
);

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
