/**
 * The single DynamoDB table's key schema, shared by every adapter, the local
 * stack, the tests and (by the same names) the CDK stack.
 *
 * Keys are strings `pk` / `sk`. Prefixes keep item families apart:
 *   L#<logId>…      log metadata, head hint, batches, idempotency, event ids
 *   P#<principalId> principals (API key hash, scopes, status)
 * Every adapter documents the items it owns next to its code.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Creates the table if it does not exist (on-demand billing) and waits until it is ACTIVE. */
export async function ensureTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEY.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
