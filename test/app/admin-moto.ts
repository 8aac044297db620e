/**
 * The admin path (./admin-harness.ts) on one DynamoDB table in moto, for the
 * tests that count the requests authentication sends and the Lambda handlers'
 * tests, which find their table through config.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { type AdminEnv, adminEnvOn } from './admin-harness.ts';

export async function adminEnvOnMoto(
  name: string,
  ddb = new DynamoDBClient(awsClientConfig()),
): Promise<AdminEnv & { table: string }> {
  const table = `anchorlog-${name}`;
  await ensureTable(ddb, table);
  const env = adminEnvOn(
    new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} }),
    new DynamoPrincipalStore({ client: ddb, tableName: table }),
  );
  return { ...env, table };
}
