/**
 * Every port's contract suite against the AWS adapters on the emulator (and
 * the HTTP timestamper against the OpenSSL TSAs of the test harness):
 * the same suites test/contracts/memory.test.ts runs against the in-memory
 * adapters. AWS-only behaviour (key layout, legacy items, IAM, metering,
 * SDK faults) stays in test/adapters/.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { anchorStoreContract } from './anchor-store.contract.ts';
import { logStoreContract } from './log-store.contract.ts';
import { principalStoreContract } from './principal-store.contract.ts';
import { queryIndexContract } from './query-index.contract.ts';
import { sealStateContract } from './seal-state.contract.ts';
import { uniqueId } from './support.ts';

const TABLE = 'anchorlog-contracts';
const tables = new Map<string, Promise<DynamoDBClient>>();
/** A table, created once (every suite but the principals' listing shares TABLE: their items never overlap). */
function table(name = TABLE): Promise<DynamoDBClient> {
  let ready = tables.get(name);
  if (!ready) {
    ready = (async () => {
      const client = new DynamoDBClient(awsClientConfig());
      await ensureTable(client, name);
      return client;
    })();
    tables.set(name, ready);
  }
  return ready;
}

logStoreContract('DynamoLogStore', async () => {
  const client = await table();
  return new DynamoLogStore({ client, tableName: TABLE, sleep: async () => {} });
});

sealStateContract('DynamoSealStateStore', async () => {
  const client = await table();
  return new DynamoSealStateStore({ client, tableName: TABLE });
});

anchorStoreContract('DynamoAnchorStore', async () => {
  const client = await table();
  return {
    store: new DynamoAnchorStore({ client, tableName: TABLE }),
    anchoredSizes: dynamoAnchoredSizes({ client, tableName: TABLE }),
  };
});

queryIndexContract('DynamoQueryIndex', async () => {
  const client = await table();
  return new DynamoQueryIndex({ client, tableName: TABLE, sleep: async () => {} });
});

principalStoreContract('DynamoPrincipalStore', async () => {
  const client = await table();
  return {
    store: new DynamoPrincipalStore({ client, tableName: TABLE }),
    empty: async () => {
      const name = uniqueId('principals');
      return new DynamoPrincipalStore({ client: await table(name), tableName: name });
    },
  };
});
