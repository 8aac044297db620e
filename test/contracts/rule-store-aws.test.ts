/**
 * The RuleStore contract against DynamoDB on the emulator (the same suite
 * rule-store-memory.test.ts runs in memory). DynamoDB-only behaviour (the
 * item layout, items edited out of band) is in
 * test/adapters/dynamo-rule-store.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRuleStore } from '../../src/adapters/aws/dynamo-rule-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { ruleStoreContract } from './rule-store.contract.ts';
import { uniqueId } from './support.ts';

async function table(name: string): Promise<DynamoDBClient> {
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, name);
  return client;
}

ruleStoreContract('DynamoRuleStore', async () => {
  const name = 'anchorlog-contracts';
  const client = await table(name);
  return {
    store: new DynamoRuleStore({ client, tableName: name }),
    // Every head shares one partition, so an empty listing needs a table of its own.
    empty: async () => {
      const own = uniqueId('anchorlog-rules');
      return new DynamoRuleStore({ client: await table(own), tableName: own });
    },
  };
});
