/**
 * Every port's contract suite against the AWS adapters on the emulator (and
 * the HTTP timestamper against the OpenSSL TSAs of the test harness):
 * the same suites test/contracts/memory.test.ts runs against the in-memory
 * adapters. AWS-only behaviour (key layout, legacy items, IAM, metering,
 * SDK faults) stays in test/adapters/.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { logStoreContract } from './log-store.contract.ts';

const TABLE = 'anchorlog-contracts';
let tableReady: Promise<DynamoDBClient> | undefined;
/** One table for every DynamoDB-backed suite of this file (their items never overlap). */
function table(): Promise<DynamoDBClient> {
  tableReady ??= (async () => {
    const client = new DynamoDBClient(awsClientConfig());
    await ensureTable(client, TABLE);
    return client;
  })();
  return tableReady;
}

logStoreContract('DynamoLogStore', async () => {
  const client = await table();
  return new DynamoLogStore({ client, tableName: TABLE, sleep: async () => {} });
});
